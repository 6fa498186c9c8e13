-- cvagent schema, version 2 (TimescaleDB): hypertables, compression, and the retention and
-- compression policies.
--
-- Chunk intervals follow the write rate: a day for the market tables (a day of trades for a few
-- dozen pairs is a few million rows, whose indexes stay in memory), a week for the derived tables,
-- a month for articles. Columns of every unique key are in segmentby or orderby, which TimescaleDB
-- requires to keep those keys enforceable on compressed chunks.

CREATE EXTENSION IF NOT EXISTS timescaledb;

SELECT create_hypertable('ticker_data', 'timestamp', chunk_time_interval => INTERVAL '1 day',
                         create_default_indexes => FALSE, if_not_exists => TRUE);
SELECT create_hypertable('trade_data', 'timestamp', chunk_time_interval => INTERVAL '1 day',
                         create_default_indexes => FALSE, if_not_exists => TRUE);
SELECT create_hypertable('book_data', 'timestamp', chunk_time_interval => INTERVAL '1 day',
                         create_default_indexes => FALSE, if_not_exists => TRUE);
SELECT create_hypertable('book_level_data', 'timestamp', chunk_time_interval => INTERVAL '6 hours',
                         create_default_indexes => FALSE, if_not_exists => TRUE);
SELECT create_hypertable('ohlc_data', 'timestamp', chunk_time_interval => INTERVAL '7 days',
                         create_default_indexes => FALSE, if_not_exists => TRUE);
SELECT create_hypertable('alert_data', 'timestamp', chunk_time_interval => INTERVAL '7 days',
                         create_default_indexes => FALSE, if_not_exists => TRUE);
SELECT create_hypertable('sentiment_data', 'timestamp', chunk_time_interval => INTERVAL '7 days',
                         create_default_indexes => FALSE, if_not_exists => TRUE);
SELECT create_hypertable('prediction_data', 'timestamp', chunk_time_interval => INTERVAL '7 days',
                         create_default_indexes => FALSE, if_not_exists => TRUE);
SELECT create_hypertable('article_data', 'timestamp', chunk_time_interval => INTERVAL '30 days',
                         create_default_indexes => FALSE, if_not_exists => TRUE);

ALTER TABLE ticker_data SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'pair, exchange',
    timescaledb.compress_orderby = 'timestamp DESC');
ALTER TABLE trade_data SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'pair, exchange',
    timescaledb.compress_orderby = 'timestamp DESC, trade_id');
ALTER TABLE book_data SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'pair, exchange',
    timescaledb.compress_orderby = 'timestamp DESC');
ALTER TABLE book_level_data SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'pair, exchange, side',
    timescaledb.compress_orderby = 'timestamp DESC, level');
ALTER TABLE ohlc_data SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'pair, interval, exchange',
    timescaledb.compress_orderby = 'timestamp DESC');
ALTER TABLE alert_data SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'pair',
    timescaledb.compress_orderby = 'timestamp DESC, rule');
ALTER TABLE sentiment_data SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'crypto_symbol',
    timescaledb.compress_orderby = 'timestamp DESC, source');
ALTER TABLE prediction_data SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'crypto_symbol, model_name',
    timescaledb.compress_orderby = 'timestamp DESC, horizon');
ALTER TABLE article_data SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'website',
    timescaledb.compress_orderby = 'timestamp DESC, article_id');

-- Sets the retention and compression policies of every cvagent hypertable; changes only what
-- differs, so calling it again with the same values does nothing. A NULL or zero interval removes
-- the policy. The agent calls it after the migrations with its `retention` and `compress_after`
-- options; the call below installs the defaults for a schema applied without the agent.
CREATE OR REPLACE FUNCTION cvagent_apply_policies(retention_period INTERVAL, compress_after_period INTERVAL)
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    tbl regclass;
    current_period INTERVAL;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['ticker_data', 'trade_data', 'book_data', 'book_level_data',
                               'ohlc_data', 'alert_data', 'sentiment_data', 'prediction_data',
                               'article_data']::regclass[] LOOP
        SELECT (j.config ->> 'drop_after')::INTERVAL INTO current_period
          FROM timescaledb_information.jobs j
         WHERE j.proc_name = 'policy_retention'
           AND format('%I.%I', j.hypertable_schema, j.hypertable_name)::regclass = tbl;
        IF retention_period IS NULL OR retention_period <= INTERVAL '0' THEN
            PERFORM remove_retention_policy(tbl, if_exists => TRUE);
        ELSIF current_period IS DISTINCT FROM retention_period THEN
            PERFORM remove_retention_policy(tbl, if_exists => TRUE);
            PERFORM add_retention_policy(tbl, drop_after => retention_period);
        END IF;

        SELECT (j.config ->> 'compress_after')::INTERVAL INTO current_period
          FROM timescaledb_information.jobs j
         WHERE j.proc_name = 'policy_compression'
           AND format('%I.%I', j.hypertable_schema, j.hypertable_name)::regclass = tbl;
        IF compress_after_period IS NULL OR compress_after_period <= INTERVAL '0' THEN
            PERFORM remove_compression_policy(tbl, if_exists => TRUE);
        ELSIF current_period IS DISTINCT FROM compress_after_period THEN
            PERFORM remove_compression_policy(tbl, if_exists => TRUE);
            PERFORM add_compression_policy(tbl, compress_after => compress_after_period);
        END IF;
    END LOOP;
END
$fn$;

SELECT cvagent_apply_policies(INTERVAL '90 days', INTERVAL '7 days');
