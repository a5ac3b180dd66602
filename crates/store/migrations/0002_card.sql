-- Card certificates, terminals, challenges, consents, history views.
SELECT 1;
