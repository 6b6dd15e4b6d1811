"""What each metric of the summary counts, in one English line per key (the dashboard's and the
manager's /help). Other languages live in the bot's catalogs under ``metric.<key>``."""

from __future__ import annotations

# Keys are those of compute_summary's families (p50/p90 pairs under one key).
DEFINITIONS: dict[str, str] = {
    "tickets_opened": "care requests that became tickets in the window",
    "tickets_resolved": "tickets resolved in the window (their latest resolution)",
    "backlog": "tickets still open at the end of the window, and how long the oldest has waited",
    "first_response": "time from a ticket's opening to staff's first reply, for tickets first "
    "answered in the window: p50 half were faster, p90 nine in ten were",
    "sla_met_rate": "tickets due in the window answered within the SLA, of all tickets due",
    "resolution": "time from opening to resolution, for tickets resolved in the window",
    "reopen_rate": "tickets resolved in the window that were ever reopened, of those resolved",
    "csat": "CSAT ratings of 4 or 5, of all CSAT ratings in the window, and their mean (1-5)",
    "nps": "% of NPS ratings 9-10 minus % of 0-6 (-100 to 100)",
    "feedback": "messages customers sent in the window, by what triage made of them",
    "active_customers": "customers with any contribution (message, vote, comment, rating), "
    "of all customers known",
    "sentiment_ratio": "positive messages to negative ones (3.0 : 1); neutral ones apart",
    "passion": "active customers who sent two messages or more, of all active customers",
    "reach": "customers who sent messages, per message (1 means each came from someone else)",
    "participation": "care requests, ideas, votes, ratings and idea comments in the window",
    "strength_by_topic": "each topic's share of the messages of the last 24 hours",
    "ideas": "ideas proposed in the window, and the votes they got",
    "votes_per_idea": "votes on the ideas proposed in the window, per idea",
    "adoption_rate": "ideas that reached planned, in progress or done, of the ideas whose "
    "status changed in the window",
    "median_time_to_first_status": "median time from an idea to its first status change",
    "cocreating_customers": "active customers who proposed or voted, of all active customers",
    "ownership_quotient": "customers who rated us satisfied and also contributed ideas, votes "
    "or comments, of all who rated",
    "staff_messages_per_ticket": "staff replies per ticket talked about in the window "
    "(interaction)",
    "contributions_per_active_customer": "contributions per active customer (participation)",
    "incidents": "incidents opened (many customers, one fault), customers affected, and how "
    "fast each was detected, told and resolved from the first report",
    "self_service_rate": "care requests closed by a suggested answer (“this solved it”), of "
    "those offered answers; escalated ones, and “solved” ones whose customer came back within "
    "24 h on the same topic",
}
