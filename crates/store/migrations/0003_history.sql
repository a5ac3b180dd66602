-- Medical history tables (medication, check-ups, diagnoses, surgeries): see history.rs.
SELECT 1;
