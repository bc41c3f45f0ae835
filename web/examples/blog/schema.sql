-- The blog's tables on PostgreSQL (Tornado's demos/blog/schema.sql), created at start-up if
-- missing: `--db postgres://user:pass@host:port/db`. To create the database and its user:
--   CREATE USER blog WITH PASSWORD 'blog';
--   CREATE DATABASE blog OWNER blog;

CREATE TABLE IF NOT EXISTS authors (
    id SERIAL PRIMARY KEY,
    email VARCHAR(100) NOT NULL UNIQUE,
    name VARCHAR(100) NOT NULL,
    hashed_password VARCHAR(100) NOT NULL
);

CREATE TABLE IF NOT EXISTS entries (
    id SERIAL PRIMARY KEY,
    author_id INT NOT NULL REFERENCES authors(id),
    slug VARCHAR(100) NOT NULL UNIQUE,
    title VARCHAR(512) NOT NULL,
    markdown TEXT NOT NULL,
    html TEXT NOT NULL,
    published TIMESTAMP NOT NULL,
    updated TIMESTAMP NOT NULL
);

CREATE INDEX IF NOT EXISTS entries_published_idx ON entries (published);
