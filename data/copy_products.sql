COPY products (id, name, price, category, tags, metadata, stock, created_at, updated_at) FROM STDIN WITH (FORMAT csv, HEADER true)
