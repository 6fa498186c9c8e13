-- cvagent schema, version 3 (TimescaleDB): the continuous aggregates of the existing stack, with
-- their old names and columns (exchange added last). Real-time aggregation is on
-- (materialized_only = false) so the newest, not yet materialized hour is included, as it is in
-- the plain-PostgreSQL views.
--
-- The refresh window is 3 days back to 1 hour back: 71 one-hour buckets, well above the two
-- buckets TimescaleDB requires (the old stack's 2 h to 1 h window failed with "policy refresh
-- window too small"), and wide enough that late data of the last days is re-aggregated.
-- Created WITH NO DATA so the migration can run in one transaction; the policy fills them.

CREATE MATERIALIZED VIEW IF NOT EXISTS ticker_ohlc_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 hour', timestamp) AS bucket,
       pair,
       first(last, timestamp) AS open,
       max(last) AS high,
       min(last) AS low,
       last(last, timestamp) AS close,
       avg(volume_24h) AS avg_volume,
       exchange
  FROM ticker_data
 GROUP BY bucket, pair, exchange
WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS sentiment_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 hour', timestamp) AS bucket,
       crypto_symbol,
       avg(sentiment_score) AS avg_sentiment,
       count(*) AS sample_count
  FROM sentiment_data
 GROUP BY bucket, crypto_symbol
WITH NO DATA;

SELECT add_continuous_aggregate_policy('ticker_ohlc_hourly',
    start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '30 minutes', if_not_exists => TRUE);
SELECT add_continuous_aggregate_policy('sentiment_hourly',
    start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '30 minutes', if_not_exists => TRUE);
