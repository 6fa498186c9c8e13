-- cvagent schema, version 3 (plain PostgreSQL): views with the names, columns and types of the
-- TimescaleDB continuous aggregates, so a query that works on one works on the other. They are
-- computed at query time (always current, slower on large tables). date_bin with TimescaleDB's
-- origin (2000-01-03 UTC) buckets exactly as time_bucket does, whatever the session time zone.

CREATE OR REPLACE VIEW ticker_ohlc_hourly AS
SELECT date_bin(INTERVAL '1 hour', timestamp, TIMESTAMPTZ '2000-01-03 00:00:00+00') AS bucket,
       pair,
       (array_agg(last ORDER BY timestamp ASC))[1] AS open,
       max(last) AS high,
       min(last) AS low,
       (array_agg(last ORDER BY timestamp DESC))[1] AS close,
       avg(volume_24h) AS avg_volume,
       exchange
  FROM ticker_data
 GROUP BY 1, pair, exchange;

CREATE OR REPLACE VIEW sentiment_hourly AS
SELECT date_bin(INTERVAL '1 hour', timestamp, TIMESTAMPTZ '2000-01-03 00:00:00+00') AS bucket,
       crypto_symbol,
       avg(sentiment_score) AS avg_sentiment,
       count(*) AS sample_count
  FROM sentiment_data
 GROUP BY 1, crypto_symbol;
