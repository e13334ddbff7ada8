-- lockstep 0.5.0 -> 0.6.0, first steps: what the replayed code cannot do
-- itself (sql/README).
-- fingerprint_clusters takes the channel weights: the replayed cluster.sql
-- makes the new form, and the old one would make every call ambiguous
DROP FUNCTION @extschema@.fingerprint_clusters(text, double precision, double precision, integer, integer,
	integer, integer);
