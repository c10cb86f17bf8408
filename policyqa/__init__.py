"""PolicyQA: cited question answering over Chinese education-policy documents."""

__version__ = "0.1.0"
