//! Integration tests against the real PostgreSQL and RabbitMQ on this machine. Each test
//! gets its own database and its own exchange/queue names, so they run in parallel.
//! A missing service fails the test loudly; nothing is skipped.

mod aliyun;
mod aliyun_double;
mod api;
mod broker;
mod callbacks;
mod cases;
mod cli;
mod cli_templates;
mod conversation;
mod dashboard;
mod demo;
mod dispatch;
mod eligibility;
mod feedback;
mod feedback_month;
mod generated;
mod health;
mod helpers;
mod http_limits;
mod http_safety;
mod ingest;
mod layers;
mod logs;
mod metrics;
mod openapi;
mod outage;
mod outbox;
mod poison;
mod process;
mod provider_double;
mod providers;
mod raw_http;
mod replay;
mod replicas;
mod schemathesis;
mod score_model;
mod scores;
mod scores_api;
mod shutdown;
mod templates;
mod tencent;
mod tencent_double;
mod tencent_e2e;
