"""clincoder: clinical coding of discharge letters (ICD-10/OPCS-4, ICD-10-CM/PCS)."""

__version__ = "0.1.0"
