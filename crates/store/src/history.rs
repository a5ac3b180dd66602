//! Medical histories: medication dispensed, specific health check-ups, diagnoses and
//! surgeries, as the center keeps them for consented viewing.
