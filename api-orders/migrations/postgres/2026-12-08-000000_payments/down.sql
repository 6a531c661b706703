DROP TABLE payment_events;
DROP INDEX payment_attempts_by_intent;
DROP TABLE payment_attempts;
