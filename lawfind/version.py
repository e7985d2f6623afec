"""The package's one version: ``lawfind.__version__`` and pyproject.toml ([tool.setuptools.dynamic]) read it.
A module of its own so that modules inside lawfind can name the version without importing the package."""

__version__ = "0.1.0"
