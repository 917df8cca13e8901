"""The coder workbench: a review store (SQLite or PostgreSQL), a FastAPI app with a worklist and
review pages, and exports (CSV, FHIR R4). It depends on the kernel only; the CLI gives it the
coder, the code search and the rule catalogue (``clincoder serve``)."""
