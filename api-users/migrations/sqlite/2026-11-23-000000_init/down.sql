DROP TABLE login_failures; DROP TABLE tokens; DROP TABLE users;
