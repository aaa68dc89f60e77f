"""The changefeed command `migrate` prints for TiCDC input."""

from tidb2mysql.config import KafkaConfig
from tidb2mysql.ops.ticdc_setup import changefeed_command, changefeed_id, sink_uri


def test_canal_json_sink_uri_has_the_tidb_extension_and_the_partition_count():
    k = KafkaConfig(brokers="k1:9092,k2:9092", topic="tidb_cdc")
    assert sink_uri(k, "ticdc-canal-json", 8) == (
        "kafka://k1:9092,k2:9092/tidb_cdc?protocol=canal-json&enable-tidb-extension=true&partition-num=8"
        "&replication-factor=1&max-message-bytes=67108864")
    assert "protocol=open-protocol&partition-num=3" in sink_uri(k, "ticdc-open-protocol", 3)


def test_changefeed_command_starts_at_the_snapshot_tso():
    k = KafkaConfig(brokers="k1:9092", topic="t")
    cmd = changefeed_command(k, "ticdc-canal-json", 8, 446123456789012345, changefeed_id("my_job.1"))
    assert cmd.startswith("cdc cli changefeed create --server=http://<ticdc-host>:8300")
    assert '--changefeed-id="tidb2mysql-my-job-1"' in cmd and "--start-ts=446123456789012345" in cmd
    assert '--sink-uri="kafka://k1:9092/t?protocol=canal-json&enable-tidb-extension=true&partition-num=8' in cmd
