"""The TiDB change simulator: plays TiDB + Pump + Drainer; the test oracle of tidb2mysql.

It runs a seeded random workload against the source database - a real TiDB (``make up-tidb``)
or MariaDB standing in for it - and publishes, for every committed transaction and every DDL,
exactly the Drainer message TiDB would produce: one message per transaction on partition 0,
TSO commit_ts strictly increasing (on TiDB: the commit_ts TiDB assigned; DDL: TiDB's own jobs,
text and finished TSO), full row images read back from the source (so the message describes
what the source really holds, AUTO_RANDOM keys included), TiDB-flavoured DDL text, Drainer's
traps (generated columns, DROP TABLE a, b twice, redeliveries). After replication the target
must equal the source.

    from tidb2mysql.simulator import SimulatorOptions, run_simulation
    summary = run_simulation(cfg, SimulatorOptions(seed=1, txns=1000, databases=["sim"]))

``SimulatorOptions.output`` (default: the config's ``[input] format``) publishes the same
workload as TiCDC would instead: canal-json or open protocol, N partitions, a partition
dispatcher, watermarks, DDL placement and restarts (``ticdc``, docs/ticdc.md).

Modules: ``catalog`` (table structure from information_schema, Drainer type names),
``values`` (random and edge values; PyMySQL -> native values), ``source`` (commit TSOs and
DDL jobs: from TiDB, or the stand-in's own ``tso`` clock), ``workload`` (the run itself),
``ticdc`` (TiCDC's Kafka sink).
"""

from tidb2mysql.simulator.workload import (
    SimulationSummary,
    SimulatorOptions,
    publish_big_transaction,
    run_simulation,
)

__all__ = ["SimulationSummary", "SimulatorOptions", "publish_big_transaction", "run_simulation"]
