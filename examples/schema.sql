-- A small back-office schema for the example rules (examples/rules.yaml).
-- Load it with: psql "$DSN" -f examples/schema.sql

CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'refunded', 'cancelled');

CREATE TABLE customers (
    id               bigserial PRIMARY KEY,
    email            text NOT NULL UNIQUE,
    first_name       text,
    last_name        text,
    plan             text,                       -- e.g. 'free', 'pro'; NULL: none
    marketing_opt_in boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id          bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    status      order_status NOT NULL DEFAULT 'pending',
    total       numeric(12, 2) NOT NULL CHECK (total >= 0),
    currency    text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    note        text,                            -- free text; large values are TOASTed
    created_at  timestamptz NOT NULL DEFAULT now(),
    paid_at     timestamptz,
    shipped_at  timestamptz,
    refunded_at timestamptz
);

CREATE INDEX orders_customer_id ON orders (customer_id);

-- The rules compare old and new rows (pending -> paid, plan changes,
-- opt-outs). Without FULL, Postgres sends no old row on UPDATE and leaves
-- unchanged TOASTed values (a long note) out of the new one; the syncer
-- then dead-letters such rows rather than guess.
ALTER TABLE customers REPLICA IDENTITY FULL;
ALTER TABLE orders REPLICA IDENTITY FULL;
