"""Regenerate README.md's node reference from the registry: python scripts/update_readme.py"""
from pathlib import Path

from longflow.apps.cli import node_reference
from longflow.core.registry import load_registry

readme = Path(__file__).resolve().parent.parent / "README.md"
text = readme.read_text()
head, rest = text.split("<!-- nodes:start -->")
_, tail = rest.split("<!-- nodes:end -->")
reference = node_reference(load_registry(plugins=False), markdown=True)
readme.write_text(f"{head}<!-- nodes:start -->\n{reference}\n<!-- nodes:end -->{tail}")
