-- cvagent schema, version 1: the tables of the data contract (docs/shared architecture.md §7).
--
-- Table and column names are those of the existing stack (ticker_data, trade_data, article_data,
-- alert_data, sentiment_data, prediction_data), so its API keeps working; columns are only added.
-- What changes, and why:
-- * Every table has a primary key, so a replayed or retried batch never duplicates a row. The key
--   includes the time column because TimescaleDB requires it of every unique index of a hypertable.
-- * Event time (exchange trade time, article publish time), to the microsecond (TIMESTAMPTZ).
-- * Text columns that hold tag values (pair, exchange, symbols) are wider than before, with an
--   explicit limit so garbage is rejected rather than stored.
-- * Indexes: the primary key leads with the column the API filters on (pair, symbol) followed by
--   the time, so it also serves "WHERE pair = $1 AND timestamp > $2 ORDER BY timestamp DESC"; a
--   BRIN index on time covers time-only scans at almost no write cost.
--
-- This file is plain PostgreSQL (15+). TimescaleDB-only parts live in *.timescale.sql files; the
-- plain-PostgreSQL stand-ins in *.postgres.sql files.

CREATE TABLE IF NOT EXISTS ticker_data (
    timestamp      TIMESTAMPTZ      NOT NULL,
    pair           VARCHAR(64)      NOT NULL,
    last           DOUBLE PRECISION NOT NULL,
    bid            DOUBLE PRECISION,
    ask            DOUBLE PRECISION,
    volume_24h     DOUBLE PRECISION,
    -- added by cvagent
    exchange       VARCHAR(32)      NOT NULL DEFAULT 'kraken',
    bid_qty        DOUBLE PRECISION,
    ask_qty        DOUBLE PRECISION,
    vwap           DOUBLE PRECISION,
    low            DOUBLE PRECISION,
    high           DOUBLE PRECISION,
    change         DOUBLE PRECISION,
    change_pct     DOUBLE PRECISION,
    receive_time   TIMESTAMPTZ,
    CONSTRAINT ticker_data_pkey PRIMARY KEY (pair, timestamp, exchange)
);
CREATE INDEX IF NOT EXISTS ticker_data_timestamp_brin ON ticker_data USING brin (timestamp);

-- side stays VARCHAR(1) 'b'/'s' as the existing API reads it; cvagent maps buy/sell onto it.
CREATE TABLE IF NOT EXISTS trade_data (
    timestamp      TIMESTAMPTZ      NOT NULL,
    pair           VARCHAR(64)      NOT NULL,
    price          DOUBLE PRECISION NOT NULL,
    volume         DOUBLE PRECISION NOT NULL,
    side           VARCHAR(1)       NOT NULL CHECK (side IN ('b', 's')),
    -- added by cvagent
    exchange       VARCHAR(32)      NOT NULL DEFAULT 'kraken',
    trade_id       BIGINT           NOT NULL,
    ord_type       VARCHAR(16),
    receive_time   TIMESTAMPTZ,
    CONSTRAINT trade_data_pkey PRIMARY KEY (pair, timestamp, exchange, trade_id)
);
CREATE INDEX IF NOT EXISTS trade_data_timestamp_brin ON trade_data USING brin (timestamp);

-- Candles, keyed by their window start; a candle re-emitted after a late trade replaces its row.
CREATE TABLE IF NOT EXISTS ohlc_data (
    timestamp      TIMESTAMPTZ      NOT NULL,
    exchange       VARCHAR(32)      NOT NULL DEFAULT 'kraken',
    pair           VARCHAR(64)      NOT NULL,
    interval       VARCHAR(16)      NOT NULL,
    open           DOUBLE PRECISION NOT NULL,
    high           DOUBLE PRECISION NOT NULL,
    low            DOUBLE PRECISION NOT NULL,
    close          DOUBLE PRECISION NOT NULL,
    volume         DOUBLE PRECISION NOT NULL DEFAULT 0,
    vwap           DOUBLE PRECISION,
    trades         BIGINT           NOT NULL DEFAULT 0,
    partial        BOOLEAN          NOT NULL DEFAULT FALSE,
    CONSTRAINT ohlc_data_pkey PRIMARY KEY (pair, interval, timestamp, exchange)
);
CREATE INDEX IF NOT EXISTS ohlc_data_timestamp_brin ON ohlc_data USING brin (timestamp);

-- Top of book (metric `book`) and optional depth (metric `book_level`).
CREATE TABLE IF NOT EXISTS book_data (
    timestamp      TIMESTAMPTZ      NOT NULL,
    exchange       VARCHAR(32)      NOT NULL DEFAULT 'kraken',
    pair           VARCHAR(64)      NOT NULL,
    best_bid       DOUBLE PRECISION,
    best_bid_qty   DOUBLE PRECISION,
    best_ask       DOUBLE PRECISION,
    best_ask_qty   DOUBLE PRECISION,
    spread         DOUBLE PRECISION,
    mid            DOUBLE PRECISION,
    checksum       BIGINT,
    receive_time   TIMESTAMPTZ,
    CONSTRAINT book_data_pkey PRIMARY KEY (pair, timestamp, exchange)
);
CREATE INDEX IF NOT EXISTS book_data_timestamp_brin ON book_data USING brin (timestamp);

CREATE TABLE IF NOT EXISTS book_level_data (
    timestamp      TIMESTAMPTZ      NOT NULL,
    exchange       VARCHAR(32)      NOT NULL DEFAULT 'kraken',
    pair           VARCHAR(64)      NOT NULL,
    side           VARCHAR(3)       NOT NULL CHECK (side IN ('bid', 'ask')),
    level          INTEGER          NOT NULL CHECK (level >= 0),
    price          DOUBLE PRECISION NOT NULL,
    qty            DOUBLE PRECISION NOT NULL,
    CONSTRAINT book_level_data_pkey PRIMARY KEY (pair, timestamp, exchange, side, level)
);
CREATE INDEX IF NOT EXISTS book_level_data_timestamp_brin ON book_level_data USING brin (timestamp);

-- timestamp is the publish time. summary and text are kept (the old pipeline lost the summary).
CREATE TABLE IF NOT EXISTS article_data (
    timestamp                  TIMESTAMPTZ      NOT NULL,
    article_id                 VARCHAR(2048)    NOT NULL,
    title                      TEXT             NOT NULL,
    url                        TEXT             NOT NULL,
    website                    VARCHAR(100),
    summary                    TEXT,
    cryptocurrencies_mentioned TEXT[],
    sentiment_score            DOUBLE PRECISION,
    sentiment_label            VARCHAR(20),
    -- added by cvagent
    text                       TEXT,
    sentiment_compound         DOUBLE PRECISION,
    receive_time               TIMESTAMPTZ,
    CONSTRAINT article_data_pkey PRIMARY KEY (article_id, timestamp)
);
CREATE INDEX IF NOT EXISTS article_data_timestamp_idx ON article_data (timestamp DESC);
CREATE INDEX IF NOT EXISTS article_data_cryptos_idx ON article_data USING gin (cryptocurrencies_mentioned);
CREATE INDEX IF NOT EXISTS article_data_label_idx ON article_data (sentiment_label, timestamp DESC);

-- alert_type keeps the existing values PRICE_UP / PRICE_DOWN; rule and severity are cvagent's tags.
CREATE TABLE IF NOT EXISTS alert_data (
    timestamp      TIMESTAMPTZ      NOT NULL,
    pair           VARCHAR(64)      NOT NULL,
    last_price     DOUBLE PRECISION NOT NULL,
    change_percent DOUBLE PRECISION NOT NULL,
    threshold      DOUBLE PRECISION NOT NULL,
    alert_type     VARCHAR(20)      NOT NULL,
    -- added by cvagent
    rule           VARCHAR(64)      NOT NULL DEFAULT '',
    severity       VARCHAR(16),
    message        TEXT,
    CONSTRAINT alert_data_pkey PRIMARY KEY (pair, timestamp, rule)
);
CREATE INDEX IF NOT EXISTS alert_data_type_idx ON alert_data (alert_type, timestamp DESC);

-- sentiment_score keeps the existing stack's 0..1 scale ((compound + 1) / 2) so the 0.6 / 0.4
-- label thresholds of its consumers still hold; sentiment_compound is the -1..1 mean.
CREATE TABLE IF NOT EXISTS sentiment_data (
    timestamp          TIMESTAMPTZ      NOT NULL,
    crypto_symbol      VARCHAR(50)      NOT NULL,
    sentiment_score    DOUBLE PRECISION NOT NULL,
    sentiment_label    VARCHAR(20)      NOT NULL,
    source             VARCHAR(100)     NOT NULL DEFAULT 'aggregated_articles',
    confidence         DOUBLE PRECISION,
    -- added by cvagent
    sentiment_compound DOUBLE PRECISION,
    article_count      BIGINT,
    CONSTRAINT sentiment_data_pkey PRIMARY KEY (crypto_symbol, timestamp, source)
);
CREATE INDEX IF NOT EXISTS sentiment_data_label_idx ON sentiment_data (sentiment_label, timestamp DESC);

CREATE TABLE IF NOT EXISTS prediction_data (
    timestamp                TIMESTAMPTZ      NOT NULL,
    crypto_symbol            VARCHAR(50)      NOT NULL,
    predicted_price          DOUBLE PRECISION NOT NULL,
    actual_price             DOUBLE PRECISION,
    model_name               VARCHAR(50)      NOT NULL,
    confidence_interval_low  DOUBLE PRECISION,
    confidence_interval_high DOUBLE PRECISION,
    -- added by cvagent
    horizon                  VARCHAR(32)      NOT NULL DEFAULT '',
    CONSTRAINT prediction_data_pkey PRIMARY KEY (crypto_symbol, timestamp, model_name, horizon)
);
CREATE INDEX IF NOT EXISTS prediction_data_model_idx ON prediction_data (model_name, timestamp DESC);
