"""The one C extension (tidb2mysql/drainer/_rowscan.c); everything else is in pyproject.toml.

Optional: without a C compiler the install still succeeds and the decoder takes its Python
path (the same rows, slower at ``-p 2``; docs/performance.md)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("tidb2mysql.drainer._rowscan", ["tidb2mysql/drainer/_rowscan.c"],
                             optional=True, extra_compile_args=["-O2"])])
