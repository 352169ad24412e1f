"""Tests of tidetrace.web (a package, so module names cannot clash with other test dirs)."""
