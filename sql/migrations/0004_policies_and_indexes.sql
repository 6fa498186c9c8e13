-- cvagent schema, version 4 (both flavours): time indexes for "latest N" queries, and the alert's
-- `resolved` flag (processors.alert emits a row when a firing alert clears).
--
-- The dashboards and the old stack's API ask for the newest rows ("ORDER BY timestamp DESC LIMIT
-- N", with or without a pair); the primary keys lead with the pair, so without a time index those
-- queries sort. A btree on (timestamp DESC) serves them on both flavours and, unlike the BRIN
-- indexes of version 1, TimescaleDB keeps it on every uncompressed chunk; compressed chunks are
-- served by their orderby (timestamp DESC) instead. The BRIN indexes are superseded and dropped:
-- they cost a little on every insert and answer nothing the btree does not.

DROP INDEX IF EXISTS ticker_data_timestamp_brin;
DROP INDEX IF EXISTS trade_data_timestamp_brin;
DROP INDEX IF EXISTS ohlc_data_timestamp_brin;
DROP INDEX IF EXISTS book_data_timestamp_brin;
DROP INDEX IF EXISTS book_level_data_timestamp_brin;

CREATE INDEX IF NOT EXISTS ticker_data_timestamp_idx ON ticker_data (timestamp DESC);
CREATE INDEX IF NOT EXISTS trade_data_timestamp_idx ON trade_data (timestamp DESC);
CREATE INDEX IF NOT EXISTS ohlc_data_timestamp_idx ON ohlc_data (timestamp DESC);
CREATE INDEX IF NOT EXISTS book_data_timestamp_idx ON book_data (timestamp DESC);
CREATE INDEX IF NOT EXISTS book_level_data_timestamp_idx ON book_level_data (timestamp DESC);
CREATE INDEX IF NOT EXISTS alert_data_timestamp_idx ON alert_data (timestamp DESC);
CREATE INDEX IF NOT EXISTS sentiment_data_timestamp_idx ON sentiment_data (timestamp DESC);
CREATE INDEX IF NOT EXISTS prediction_data_timestamp_idx ON prediction_data (timestamp DESC);
-- The old API matches symbols case-insensitively (/sentiment/{symbol}/, /prediction/{symbol}/).
CREATE INDEX IF NOT EXISTS sentiment_data_symbol_ci_idx
    ON sentiment_data (upper(crypto_symbol), timestamp DESC);
CREATE INDEX IF NOT EXISTS prediction_data_symbol_ci_idx
    ON prediction_data (upper(crypto_symbol), timestamp DESC);

-- processors.alert: true on the row that says a firing alert cleared; NULL for the old stack's
-- alerts.
ALTER TABLE alert_data ADD COLUMN IF NOT EXISTS resolved BOOLEAN;
