-- An answer read past words around it that are not the answer (`4分 等了很久`): the feedback
-- list shows such a survey, so the QA lead reads what the customer said. A column with a
-- constant default is metadata only from PostgreSQL 11: no rewrite of the table. Rows
-- stored before it stay false, as their replies were read before remarks were told apart.
ALTER TABLE answers ADD COLUMN remark boolean NOT NULL DEFAULT false;
