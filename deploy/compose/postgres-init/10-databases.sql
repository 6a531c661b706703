-- Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d):
-- one database per service, as in development. Each service migrates its own at start.
CREATE DATABASE cartwheel_users;
CREATE DATABASE cartwheel_products;
CREATE DATABASE cartwheel_orders;
