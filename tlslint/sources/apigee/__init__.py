"""Apigee hybrid YAML: overrides files and ApigeeRoute / ApigeeRouteConfig manifests.

Importing this module is cheap (ruamel.yaml and jsonschema are imported when a
file is read); it registers the ``yaml`` format, so that the fixer re-validates
an edited YAML text and may create a ``.yaml`` file (the non-SNI route).
"""

from __future__ import annotations

from tlslint.sources.formats import register
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.text import SourceError

YAML = "yaml"

register(YAML, "tlslint.sources.apigee:validate_text", (".yaml", ".yml"))


def validate_text(source: SourceText) -> None:
    """Raise ``SourceError`` (with the line) when ``source`` is not YAML."""
    from tlslint.sources.apigee.tree import YamlError, parse

    try:
        parse(source)
    except YamlError as error:
        raise SourceError(source.path, error.line, error.summary) from None
