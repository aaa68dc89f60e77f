"""The two C extensions (tidb2mysql/drainer/_rowscan.c: Drainer rows from the wire;
tidb2mysql/mysql/_rowtext.c: rows as LOAD DATA text and as SQL VALUES); everything else is in
pyproject.toml.

Optional: without a C compiler the install still succeeds and each caller takes its Python
path (the same results, slower; docs/performance.md)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("tidb2mysql.drainer._rowscan", ["tidb2mysql/drainer/_rowscan.c"],
                             optional=True, extra_compile_args=["-O2"]),
                   Extension("tidb2mysql.mysql._rowtext", ["tidb2mysql/mysql/_rowtext.c"],
                             optional=True, extra_compile_args=["-O2"])])
