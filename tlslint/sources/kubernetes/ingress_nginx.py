"""ingress-nginx's ConfigMap keys and annotations, and how the controller decodes a value.

Facts: ../shared/facts/kubernetes-gateways.md §1 (controller v1.13.9-v1.15.1,
the last releases: the project was retired in March 2026, so the key set no
longer moves).

* Keys are the ``json`` tags of ``config.Configuration`` (with the squashed
  ``defaults.Backend``) plus a few read by name in ``configmap.go``; keys of
  older releases (tracing, GeoIP, ...) are known too, so that a ConfigMap
  written for one of them is not reported as a typo. mapstructure matches a
  struct key case-insensitively, so case is not a typo either.
* mapstructure decodes with ``WeaklyTypedInput``: an integer key takes Go's
  ``strconv.ParseInt(s, 0, 64)`` (``""`` counts as ``0``), a boolean key
  ``strconv.ParseBool`` (``""`` counts as false). A value that does not
  decode is logged (``unexpected error merging defaults``) and the key keeps
  its default; the other keys still apply (mapstructure decodes them all).
"""

from __future__ import annotations

from tlslint.sources.goyaml import parse_int

ANNOTATION_PREFIX = "nginx.ingress.kubernetes.io/"

KNOWN_KEYS = frozenset(
    """
    access-log-params access-log-path add-headers allow-backend-server-header
    allow-cross-namespace-resources allow-snippet-annotations annotation-value-word-blocklist
    annotations-risk-level app-root bind-address bind-address-ipv4 bind-address-ipv6 block-cidrs
    block-referers block-user-agents brotli-level brotli-min-length brotli-types
    client-body-buffer-size client-body-timeout client-header-buffer-size client-header-timeout
    compute-full-forwarded-for custom-http-errors datadog-collector-host datadog-collector-port
    datadog-environment datadog-operation-name-override datadog-priority-sampling
    datadog-sample-rate datadog-service-name debug-connections default-type denylist-source-range
    disable-access-log disable-http-access-log disable-ipv6 disable-ipv6-dns
    disable-proxy-intercept-errors disable-stream-access-log enable-access-log-for-default-backend
    enable-aio-write enable-auth-access-log enable-brotli enable-influxdb enable-modsecurity
    enable-multi-accept enable-ocsp enable-opentelemetry enable-opentracing
    enable-owasp-modsecurity-crs enable-real-ip enable-syslog enable-underscores-in-headers
    error-log-level error-log-path force-ssl-redirect forwarded-for-header generate-request-id
    global-auth-always-set-cookie global-auth-cache-duration global-auth-cache-key
    global-auth-method global-auth-request-redirect global-auth-response-headers
    global-auth-signin global-auth-signin-redirect-param global-auth-snippet global-auth-url
    global-rate-limit-memcached-connect-timeout global-rate-limit-memcached-host
    global-rate-limit-memcached-max-idle-timeout global-rate-limit-memcached-pool-size
    global-rate-limit-memcached-port global-rate-limit-status-code gzip-disable gzip-level
    gzip-min-length gzip-types hide-headers hsts hsts-include-subdomains hsts-max-age hsts-preload
    http-access-log-path http-redirect-code http-snippet http2-max-concurrent-streams
    http2-max-field-size http2-max-header-size http2-max-requests ignore-invalid-headers
    jaeger-baggage-header jaeger-collector-host jaeger-collector-port jaeger-debug-header
    jaeger-endpoint jaeger-propagation-format jaeger-sampler-host jaeger-sampler-param
    jaeger-sampler-port jaeger-sampler-type jaeger-service-name jaeger-trace-baggage-header-prefix
    jaeger-trace-context-header-name keep-alive keep-alive-requests large-client-header-buffers
    limit-conn-status-code limit-conn-zone-variable limit-rate limit-rate-after
    limit-req-status-code load-balance location-snippet log-format-escape-json
    log-format-escape-none log-format-stream log-format-upstream lua-shared-dicts main-snippet
    map-hash-bucket-size max-worker-connections max-worker-open-files modsecurity-snippet
    nginx-status-ipv4-whitelist nginx-status-ipv6-whitelist no-auth-locations
    no-tls-redirect-locations opentelemetry-config opentelemetry-operation-name
    opentelemetry-trust-incoming-span opentracing-location-operation-name
    opentracing-operation-name opentracing-trust-incoming-span otel-max-export-batch-size
    otel-max-queuesize otel-sampler otel-sampler-parent-based otel-sampler-ratio
    otel-schedule-delay-millis otel-service-name otlp-collector-host otlp-collector-port plugins
    preserve-trailing-slash proxy-add-original-uri-header proxy-body-size proxy-buffer-size
    proxy-buffering proxy-buffers-number proxy-connect-timeout proxy-cookie-domain
    proxy-cookie-path proxy-headers-hash-bucket-size proxy-headers-hash-max-size
    proxy-http-version proxy-max-temp-file-size proxy-next-upstream proxy-next-upstream-timeout
    proxy-next-upstream-tries proxy-protocol-header-timeout proxy-read-timeout proxy-real-ip-cidr
    proxy-redirect-from proxy-redirect-to proxy-request-buffering proxy-send-timeout
    proxy-set-headers proxy-ssl-location-only proxy-stream-next-upstream
    proxy-stream-next-upstream-timeout proxy-stream-next-upstream-tries proxy-stream-responses
    proxy-stream-timeout retry-non-idempotent reuse-port server-name-hash-bucket-size
    server-name-hash-max-size server-snippet server-tokens service-upstream skip-access-log-urls
    ssl-buffer-size ssl-ciphers ssl-dh-param ssl-early-data ssl-ecdh-curve ssl-protocols
    ssl-redirect ssl-reject-handshake ssl-session-cache ssl-session-cache-size
    ssl-session-ticket-key ssl-session-tickets ssl-session-timeout stream-access-log-path
    stream-snippet strict-validate-path-type syslog-host syslog-port upstream-hash-by
    upstream-hash-by-subset upstream-hash-by-subset-size upstream-keepalive-connections
    upstream-keepalive-requests upstream-keepalive-time upstream-keepalive-timeout
    use-forwarded-headers use-geoip use-geoip2 use-gzip use-http2 use-port-in-redirects
    use-proxy-protocol variables-hash-bucket-size variables-hash-max-size
    whitelist-source-range worker-cpu-affinity worker-processes worker-shutdown-timeout
    zipkin-collector-host zipkin-collector-port zipkin-sample-rate zipkin-service-name
    """.split()  # noqa: SIM905 - a word list, wrapped
)
_KNOWN_FOLDED = frozenset(key.lower() for key in KNOWN_KEYS)

# The keys tlslint reads, by how the controller decodes them, with their defaults.
INT_KEYS: dict[str, int] = {
    "keep-alive": 75,
    "keep-alive-requests": 1000,
    "upstream-keepalive-connections": 320,
    "upstream-keepalive-timeout": 60,
    "upstream-keepalive-requests": 10000,
    "http2-max-requests": 0,
    "http2-max-concurrent-streams": 128,
}
BOOL_KEYS: dict[str, bool] = {
    "ssl-session-cache": True,
    "ssl-session-tickets": False,
    "use-http2": True,
    "ssl-reject-handshake": False,
}
# ConfigMap keys only ingress-nginx has (F5's controller writes keepalive, http2, ...;
# haproxy-ingress timeout-keep-alive, ...): a chart's ``controller.config`` that sets one
# is ingress-nginx's, though nothing else in the values names the chart.
OWN_KEYS = frozenset(
    {*INT_KEYS, *BOOL_KEYS, "ssl-session-ticket-key", "ssl-session-timeout", "upstream-keepalive-time"}
)
# Integer keys that count seconds (the template appends the "s").
SECONDS_KEYS = frozenset({"keep-alive", "upstream-keepalive-timeout"})

# Keys named otherwise than the nginx directive they render (facts §1.2: `keep-alive` is
# the client's keepalive_timeout), by that directive: a key written as the directive
# (`keepalive-timeout`) means this one, not the closest spelling (`upstream-keepalive-timeout`
# is the upstream pool's timeout, another setting).
DIRECTIVE_KEYS = {"keepalive_timeout": "keep-alive", "keepalive_requests": "keep-alive-requests"}
# Client directives no key renders (facts §1.2: none for keepalive_time on the client side
# or for keepalive_min_timeout): a key written as one has no key to point at, and the
# closest spelling (`upstream-keepalive-time`) is the upstream pool's, another setting.
UNRENDERED_DIRECTIVES = frozenset({"keepalive_time", "keepalive_min_timeout"})

# Keys that are global in the ConfigMap and have no per-Ingress annotation (facts §1.2;
# the only per-server TLS annotations are ssl-ciphers and ssl-prefer-server-ciphers).
CONFIGMAP_ONLY = frozenset(
    {
        *INT_KEYS,
        *BOOL_KEYS,
        "ssl-session-cache-size",
        "ssl-session-timeout",
        "ssl-session-ticket-key",
        "ssl-protocols",
        "ssl-buffer-size",
        "ssl-early-data",
        "ssl-ecdh-curve",
        "ssl-dh-param",
        "upstream-keepalive-time",
        "http2-max-field-size",
        "http2-max-header-size",
    }
)

# Annotations (without the prefix) of ingress-nginx's documentation: a name that is
# none of these and is close to one of them is reported with it as a did-you-mean.
ANNOTATIONS = frozenset(
    """
    affinity affinity-canary-behavior affinity-mode app-root auth-always-set-cookie auth-cache-duration
    auth-cache-key auth-keepalive auth-keepalive-requests auth-keepalive-share-vars
    auth-keepalive-timeout auth-method auth-proxy-set-headers auth-realm auth-request-redirect
    auth-response-headers auth-secret auth-secret-type auth-signin auth-signin-redirect-param
    auth-snippet auth-tls-error-page auth-tls-match-cn auth-tls-pass-certificate-to-upstream
    auth-tls-secret auth-tls-verify-client auth-tls-verify-depth auth-type auth-url
    backend-protocol canary canary-by-cookie canary-by-header canary-by-header-pattern
    canary-by-header-value canary-weight canary-weight-total client-body-buffer-size
    configuration-snippet connection-proxy-header cors-allow-credentials cors-allow-headers
    cors-allow-methods cors-allow-origin cors-expose-headers cors-max-age custom-headers
    custom-http-errors default-backend denylist-source-range disable-proxy-intercept-errors
    enable-access-log enable-cors enable-global-auth enable-influxdb enable-modsecurity
    enable-opentelemetry enable-opentracing enable-owasp-core-rules enable-rewrite-log
    force-ssl-redirect from-to-www-redirect global-rate-limit global-rate-limit-ignored-cidrs
    global-rate-limit-key global-rate-limit-window http2-push-preload influxdb-host
    influxdb-measurement influxdb-port influxdb-server-name limit-allowlist
    limit-burst-multiplier limit-connections limit-rate limit-rate-after limit-rpm limit-rps
    limit-whitelist load-balance mirror-host mirror-request-body mirror-target
    modsecurity-snippet modsecurity-transaction-id opentelemetry-operation-name
    opentelemetry-trust-incoming-span opentracing-trust-incoming-span permanent-redirect
    permanent-redirect-code preserve-trailing-slash proxy-body-size proxy-buffer-size
    proxy-buffering proxy-buffers-number proxy-connect-timeout proxy-cookie-domain
    proxy-cookie-path proxy-http-version proxy-max-temp-file-size proxy-next-upstream
    proxy-next-upstream-timeout proxy-next-upstream-tries proxy-read-timeout proxy-redirect-from
    proxy-redirect-to proxy-request-buffering proxy-send-timeout proxy-ssl-ciphers proxy-ssl-name
    proxy-ssl-protocols proxy-ssl-secret proxy-ssl-server-name proxy-ssl-verify
    proxy-ssl-verify-depth rewrite-target satisfy server-alias server-snippet service-upstream
    session-cookie-change-on-failure session-cookie-conditional-samesite-none
    session-cookie-domain session-cookie-expires session-cookie-max-age session-cookie-name
    session-cookie-path session-cookie-samesite session-cookie-secure ssl-ciphers ssl-passthrough
    ssl-prefer-server-ciphers ssl-redirect stream-snippet temporal-redirect
    temporal-redirect-code upstream-hash-by upstream-hash-by-subset upstream-hash-by-subset-size
    upstream-vhost use-regex whitelist-source-range x-forwarded-prefix
    """.split()  # noqa: SIM905 - a word list, wrapped
)
# Annotations whose value tlslint reads (keep-alive to the backend, TLS): a name close
# to one of these, and no annotation itself, is almost surely a typo of it (#12286).
READ_ANNOTATIONS = (
    "proxy-http-version",
    "connection-proxy-header",
    "ssl-ciphers",
    "ssl-prefer-server-ciphers",
    "backend-protocol",
    "ssl-passthrough",
    "upstream-vhost",
    "proxy-ssl-server-name",
    "proxy-ssl-protocols",
)

_GO_BOOL = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
            "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}  # fmt: skip


def known_key(name: str) -> bool:
    return name.lower() in _KNOWN_FOLDED


def decode_int(text: str) -> int | None:
    """The integer the controller reads from ``text`` (Go ``ParseInt(s, 0, 64)``), or None."""
    if text == "":
        return 0  # WeaklyTypedInput reads an empty string as zero
    return parse_int(text)


def decode_bool(text: str) -> bool | None:
    """The boolean the controller reads from ``text`` (Go ``ParseBool``), or None."""
    if text == "":
        return False
    return _GO_BOOL.get(text)
