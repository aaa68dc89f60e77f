"""The translator's TranslateOptions from the job's ``[ddl]`` section (tidb2mysql/config/ddl.py): the
schema stage and the incremental flow's DDL barrier build them here, so both translate alike."""

from __future__ import annotations


def translate_options(cfg):
    """The translator's TranslateOptions for this job's configuration."""
    from tidb2mysql.ddl.translate import TranslateOptions

    s = cfg.ddl
    return TranslateOptions(latin1=s.latin1, auto_random=s.auto_random, keep_definer=s.keep_definer)
