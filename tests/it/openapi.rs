//! The OpenAPI document (`assets/openapi.json`, served at `/api/openapi.json`) is kept true:
//! it describes exactly the routes the router registers, it is well formed, every status the
//! server gives is one it documents, and real requests and responses fit its schemas.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use chrono::Utc;
use postcall::{
    channels::{twilio, webhook},
    health::Health,
    http::AppState,
};
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::{
    helpers::{Names, TestApp, event, minutes_ago, phone},
    provider_double::WEBHOOK_SECRET,
};

const DOCUMENT: &str = include_str!("../../assets/openapi.json");
const API_TOKEN: &str = "0pen-api-t0ken-HDFhXMS-l6l4H7ZLCR";
const TWILIO_TOKEN: &str = "a93eaa37d876edb79b7c67c6299d2708";
const PUBLIC_URL: &str = "https://postcall.example.com";
/// The operation keys of an OpenAPI path item.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    serde_json::from_str(DOCUMENT).expect("assets/openapi.json is JSON")
}

/// Every operation the document describes: (METHOD, path template, operation object).
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths is an object") {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                all.push((method.to_uppercase(), path.clone(), operation));
            }
        }
    }
    all
}

/// Follows a local `$ref` (`#/components/...`), or `None` if it points nowhere.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// A component reference (a response, a parameter) followed, or the value itself.
fn deref<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(doc, r).unwrap_or_else(|| panic!("{r} does not resolve")),
        None => value,
    }
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    &doc["components"]["schemas"][name]
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes_the_router_registers() {
    let names = Names::new();
    let settings = names.settings(&[]);
    // Building the routes connects to nothing: the state is only moved into handlers.
    let pool = sqlx::PgPool::connect_lazy(&names.database_url).unwrap();
    let state = AppState {
        wake: postcall::http::Waker::spawn(pool.clone()),
        pool,
        health: Arc::new(Health::default()),
        uses_broker: false,
        webhooks: std::sync::Arc::new(
            postcall::channels::callbacks::Keys::new(&settings.provider, &settings.http.public_url)
                .unwrap(),
        ),
        survey: settings.runtime().unwrap().survey,
        channel: settings.runtime().unwrap().provider,
        api_token: None,
        max_groups: settings.api.max_groups,
        min_answers_to_rank: settings.scores.min_answers_to_rank,
        scores_zone: settings.runtime().unwrap().scores_zone,
    };
    let routes = postcall::http::routes(&state);
    let registered: BTreeSet<(String, String)> = routes
        .table()
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .collect();
    assert_eq!(
        registered.len(),
        routes.table().len(),
        "a route is registered twice"
    );
    let doc = document();
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();

    let show = |set: BTreeSet<&(String, String)>| {
        set.iter()
            .map(|(m, p)| format!("{m} {p}"))
            .collect::<Vec<_>>()
    };
    let undocumented = show(registered.difference(&documented).collect());
    let unserved = show(documented.difference(&registered).collect());
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "assets/openapi.json and the router disagree:\n  served but not documented: \
         {undocumented:?}\n  documented but not served: {unserved:?}"
    );
}

#[test]
fn the_document_is_well_formed_openapi_3_1() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "postcall");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["servers"][0]["url"], "http://127.0.0.1:8080");

    let mut problems = Vec::new();
    let mut references = BTreeSet::new();
    collect_references(&doc, &mut references);
    for r in &references {
        if resolve(&doc, r).is_none() {
            problems.push(format!("$ref {r} does not resolve inside the document"));
        }
    }
    for kind in ["schemas", "responses"] {
        for name in doc["components"][kind].as_object().unwrap().keys() {
            let r = format!("#/components/{kind}/{name}");
            if !references.contains(&r) {
                problems.push(format!("{r} is never used"));
            }
        }
    }
    let bearer = &doc["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!(
        (&bearer["type"], &bearer["scheme"]),
        (&json!("http"), &json!("bearer"))
    );
    assert!(
        bearer["description"]
            .as_str()
            .unwrap()
            .contains("api.token")
    );

    for (path, item) in doc["paths"].as_object().unwrap() {
        for key in item.as_object().unwrap().keys() {
            let known = ["summary", "description", "parameters", "servers", "$ref"];
            if !METHODS.contains(&key.as_str()) && !known.contains(&key.as_str()) {
                problems.push(format!("{path}: {key:?} is not a path item field"));
            }
        }
    }
    let mut operation_ids = BTreeSet::new();
    for (method, path, operation) in operations(&doc) {
        let at = format!("{method} {path}");
        problems.extend(operation_problems(&doc, &at, &path, operation));
        match operation["operationId"].as_str() {
            Some(id) if operation_ids.insert(id.to_owned()) => {}
            other => problems.push(format!("{at}: operationId {other:?} missing or repeated")),
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// What is wrong with one operation: no responses, a path parameter undeclared (or declared
/// and not in the template), or security that does not match the route.
fn operation_problems(doc: &Value, at: &str, path: &str, operation: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    match operation["responses"].as_object() {
        Some(responses) if !responses.is_empty() => {
            for status in responses.keys() {
                let valid = status == "default"
                    || (status.len() == 3 && status.parse::<u16>().is_ok_and(|s| s >= 100));
                if !valid {
                    problems.push(format!("{at}: {status:?} is not a status code"));
                }
            }
        }
        _ => problems.push(format!("{at}: no responses")),
    }
    let in_template: BTreeSet<&str> = path
        .split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(name, _)| name))
        .collect();
    let path_level = doc["paths"][path]["parameters"].as_array();
    let declared: Vec<&Value> = path_level
        .into_iter()
        .chain(operation["parameters"].as_array())
        .flatten()
        .map(|p| deref(doc, p))
        .filter(|p| p["in"] == "path")
        .collect();
    for p in &declared {
        if p["required"] != true {
            problems.push(format!(
                "{at}: path parameter {} is not required",
                p["name"]
            ));
        }
    }
    let declared: BTreeSet<&str> = declared.iter().filter_map(|p| p["name"].as_str()).collect();
    if declared != in_template {
        problems.push(format!(
            "{at}: path parameters declared {declared:?}, in the template {in_template:?}"
        ));
    }
    let secured = operation.get("security") == Some(&json!([{"bearerAuth": []}]));
    if path.starts_with("/api/v1/") != secured {
        problems.push(format!(
            "{at}: bearerAuth must apply to /api/v1/* and only there"
        ));
    }
    problems
}

/// Every `$ref` in the document, and every schema a discriminator maps to.
fn collect_references(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(object) => {
            for (key, v) in object {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        into.insert(r.clone());
                    }
                    ("mapping", Value::Object(m)) => {
                        into.extend(m.values().filter_map(|r| r.as_str().map(str::to_owned)));
                    }
                    _ => collect_references(v, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, into)),
        _ => {}
    }
}

/// A worker with every credential set, so each check (token, Twilio, Standard Webhooks) is on.
async fn spawn() -> TestApp {
    TestApp::spawn_with(&[
        ("POSTCALL__AGGREGATION__ENABLED", "false"),
        ("POSTCALL__ELIGIBILITY__DELAY_SECONDS", "0"),
        ("POSTCALL__API__TOKEN", API_TOKEN),
        ("POSTCALL__PROVIDER__TWILIO__AUTH_TOKEN", TWILIO_TOKEN),
        ("POSTCALL__PROVIDER__WEBHOOK__SECRET", WEBHOOK_SECRET),
        ("POSTCALL__HTTP__PUBLIC_URL", PUBLIC_URL),
    ])
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_answers_with_a_documented_status() {
    let app = spawn().await;
    let client = reqwest::Client::new();
    let served = client
        .get(format!("{}/api/openapi.json", app.http))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "application/json");
    assert_eq!(served.text().await.unwrap(), DOCUMENT);

    let doc = document();
    let mut problems = Vec::new();
    for (method, path, operation) in operations(&doc) {
        let url = format!("{}{}", app.http, filled(&path));
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        // Unsigned callbacks (403), API calls without the token (401), everything else as is.
        let bare = client.request(method.clone(), &url);
        problems.extend(undocumented(&doc, operation, &path, bare.send().await.unwrap()).await);
        if path.starts_with("/api/v1/") {
            let authorised = client.request(method.clone(), &url).bearer_auth(API_TOKEN);
            let response = authorised.send().await.unwrap();
            problems.extend(undocumented(&doc, operation, &path, response).await);
        }
        if method == Method::POST {
            // Aliyun's batch routes take up to 2 MiB (src/http/webhooks/mod.rs).
            let limit = if path.starts_with("/webhooks/aliyun/") {
                2 * 1024 * 1024
            } else {
                64 * 1024
            };
            let mut oversized = client.request(method, &url).body(vec![b'x'; limit + 1024]);
            // The API's token is checked before any body is read.
            if path.starts_with("/api/v1/") {
                oversized = oversized.bearer_auth(API_TOKEN);
            }
            let response = oversized.send().await.unwrap();
            if response.status() != 413 {
                problems.push(format!(
                    "{path}: {} to an oversized body",
                    response.status()
                ));
            }
            problems.extend(undocumented(&doc, operation, &path, response).await);
        }
    }
    for query in [
        "format=xlsx",
        "group_by=day,day",
        "from=2026-11-01&from=2026-11-02",
    ] {
        let url = format!("{}/api/v1/scores?{query}", app.http);
        let response = client.get(url).bearer_auth(API_TOKEN).send().await.unwrap();
        if response.status() != 400 {
            problems.push(format!("scores?{query}: {}", response.status()));
        }
        let scores = &doc["paths"]["/api/v1/scores"]["get"];
        problems.extend(undocumented(&doc, scores, "/api/v1/scores", response).await);
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A template with each `{name}` replaced by `no-such-name`.
fn filled(template: &str) -> String {
    let mut path = template.to_owned();
    while let (Some(open), Some(close)) = (path.find('{'), path.find('}')) {
        let name = path[open + 1..close].to_owned();
        path.replace_range(open..=close, &format!("no-such-{name}"));
    }
    path
}

/// What the document fails to say about `response`: its status, or its media type.
async fn undocumented(
    doc: &Value,
    operation: &Value,
    path: &str,
    response: Response,
) -> Vec<String> {
    let status = response.status();
    let media_type = response.headers().get("content-type").map(|v| {
        v.to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .trim()
            .to_owned()
    });
    let body = response.bytes().await.unwrap();
    let Some(documented) = operation["responses"].get(status.as_str()) else {
        return vec![format!("{path}: {status} is not documented")];
    };
    let content = deref(doc, documented)
        .get("content")
        .and_then(Value::as_object);
    match (media_type, content) {
        (Some(mt), Some(content)) if content.contains_key(&mt) => vec![],
        (None, None) if body.is_empty() => vec![],
        (mt, _) => vec![format!(
            "{path}: {status} came as {mt:?}, documented as {:?}",
            content.map(|c| c.keys().collect::<Vec<_>>())
        )],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_scores_fit_the_schema_field_for_field() {
    let app = spawn().await;
    // One cell with answers, one with none (so every nullable figure is null once).
    sqlx::query(
        "INSERT INTO score_cells (day, agent_id, queue, sent, delivered, responses, csat_n,
                                  csat_satisfied, csat_sum, nps_n, promoters, passives,
                                  detractors, fcr_n, fcr_yes, wait_n, wait_ms_sum, sms_segments)
         VALUES ('2026-11-03', 'agent-7', 'payment', 10, 9, 6, 5, 4, 21, 5, 3, 1, 1, 6, 5, 10, 315000, 24),
                ('2026-11-04', 'agent-8', 'account', 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2)",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let doc = document();
    let group_schema = schema(&doc, "ScoreGroup");
    let required: Vec<&str> = group_schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    let properties = group_schema["properties"].as_object().unwrap();

    for query in ["group_by=agent,queue,day", "group_by=queue", ""] {
        let body: Value = app_get(
            &app,
            &format!("/api/v1/scores?from=2026-11-01&to=2026-11-30&{query}"),
        )
        .await
        .json()
        .await
        .unwrap();
        let groups = body["groups"].as_array().unwrap();
        assert!(!groups.is_empty(), "{query}: {body}");
        for group in groups {
            let missing: Vec<&&str> = required
                .iter()
                .filter(|f| group.get(**f).is_none())
                .collect();
            let extra: Vec<&String> = group
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| !properties.contains_key(*k))
                .collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{query}: the handler and ScoreGroup disagree: missing {missing:?}, \
                 undocumented {extra:?}"
            );
        }
        assert_fits(&doc, "Scores", &body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_callbacks_and_survey_views_fit_the_schemas() {
    let app = spawn().await;
    let doc = document();
    let customer = phone(31);
    let mut skipped = event("oa-skipped", &phone(32), minutes_ago(1));
    skipped["disposition"] = "abandoned".into();
    app.publish(&skipped).await;
    app.publish(&event("oa-sent", &customer, minutes_ago(1)))
        .await;
    app.wait_for_count("SELECT count(*) FROM surveys WHERE state = 'open'", 1)
        .await;

    // The yes/no question answered through Twilio, the rest through the webhook provider:
    // each request built to the document's schema, and accepted.
    let form = [
        ("MessageSid", "SMopenapi1"),
        ("From", customer.as_str()),
        ("To", "+15005550006"),
        ("Body", "2"),
    ];
    let response = post_twilio(&app, &doc, &form).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/xml");
    for (n, reply) in ["5", "10", "很好"].into_iter().enumerate() {
        let callback = json!({"type": "message.received", "data": {
            "provider_message_id": format!("in-{n}"), "from": customer, "to": "+8610690000",
            "body": reply, "received_at": Utc::now(),
        }});
        assert_eq!(post_webhook(&app, &doc, &callback).await, 204, "{reply}");
    }
    let report = json!({"type": "message.status", "data": {
        "provider_message_id": "never-sent", "status": "delivered", "error_code": null,
    }});
    assert_eq!(post_webhook(&app, &doc, &report).await, 204);
    app.wait_for_count("SELECT count(*) FROM answers", 4).await;

    let sent: Value = app_get(&app, "/api/v1/surveys/oa-sent")
        .await
        .json()
        .await
        .unwrap();
    assert_fits(&doc, "SurveyView", &sent);
    let values: Vec<&Value> = sent["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["value"])
        .collect();
    assert_eq!(
        values,
        [&json!(false), &json!(5), &json!(10), &json!("很好")]
    );
    let directions: BTreeSet<&str> = sent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["direction"].as_str().unwrap())
        .collect();
    assert_eq!(directions, BTreeSet::from(["inbound", "outbound"]));

    // The "2" (not resolved) opened a follow-up case; "很好" is a comment.
    let feedback: Value = app_get(&app, "/api/v1/feedback")
        .await
        .json()
        .await
        .unwrap();
    assert_fits(&doc, "FeedbackPage", &feedback);
    assert_eq!(feedback["items"][0]["comment"], "很好", "{feedback:#}");
    let case: Value = app_get(&app, "/api/v1/cases/oa-sent")
        .await
        .json()
        .await
        .unwrap();
    assert_fits(&doc, "FollowUpCase", &case);
    let moved = reqwest::Client::new()
        .post(format!("{}/api/v1/cases/oa-sent/moves", app.http))
        .bearer_auth(API_TOKEN)
        .json(&json!({"to": "contacted", "by": "qa-lead", "note": "called back"}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
    let moved: Value = moved.json().await.unwrap();
    assert_fits(&doc, "FollowUpCase", &moved);
    assert_eq!(moved["moves"].as_array().unwrap().len(), 1, "{moved:#}");

    let skipped: Value = app_get(&app, "/api/v1/surveys/oa-skipped")
        .await
        .json()
        .await
        .unwrap();
    assert_fits(&doc, "SurveyView", &skipped);
    let health: Value = app_get(&app, "/healthz").await.json().await.unwrap();
    assert_fits(&doc, "Health", &health);
    let ready: Value = app_get(&app, "/readyz").await.json().await.unwrap();
    assert_fits(&doc, "Readiness", &ready);
}

async fn app_get(app: &TestApp, path: &str) -> Response {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", app.http))
        .bearer_auth(API_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response
}

/// Posts `form`, checked against the document first, signed as Twilio signs.
async fn post_twilio(app: &TestApp, doc: &Value, form: &[(&str, &str)]) -> Response {
    let fields: BTreeMap<&str, &str> = form.iter().copied().collect();
    assert_fits(doc, "TwilioInboundMessage", &json!(fields));
    let params: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let path = postcall::channels::twilio::wire::INBOUND_PATH;
    let signature =
        twilio::signature::compute(TWILIO_TOKEN, &format!("{PUBLIC_URL}{path}"), &params);
    reqwest::Client::new()
        .post(format!("{}{path}", app.http))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish(),
        )
        .send()
        .await
        .unwrap()
}

/// Posts `callback`, checked against the document first, Standard Webhooks-signed.
async fn post_webhook(app: &TestApp, doc: &Value, callback: &Value) -> u16 {
    assert_fits(doc, "WebhookCallback", callback);
    let secret = webhook::signature::Secret::parse(WEBHOOK_SECRET).unwrap();
    let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let timestamp = Utc::now().timestamp();
    let body = serde_json::to_vec(callback).unwrap();
    reqwest::Client::new()
        .post(format!("{}/webhooks/sms", app.http))
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            webhook::signature::sign(&secret, &id, timestamp, &body),
        )
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn assert_fits(doc: &Value, name: &str, value: &Value) {
    let mut errors = Vec::new();
    check(doc, schema(doc, name), value, name, &mut errors);
    assert!(
        errors.is_empty(),
        "{value:#}\ndoes not fit {name}: {errors:#?}"
    );
}

/// Checks `value` against `schema` for the JSON Schema 2020-12 keywords the document uses.
/// A keyword it does not know is an error, so a new one cannot pass unchecked; `format` and
/// `pattern` are annotations here.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let object = match schema {
        Value::Bool(true) => return,
        Value::Object(object) => object,
        _ => return errors.push(format!("{at}: not allowed here")),
    };
    let mut fail = |what: String| errors.push(format!("{at}: {what}"));
    let mut nested = Vec::new();
    for (keyword, arg) in object {
        match keyword.as_str() {
            "$ref" => match resolve(doc, arg.as_str().unwrap()) {
                Some(target) => nested.push((target, value, at.to_owned())),
                None => fail(format!("{arg} does not resolve")),
            },
            "type" => {
                let types: Vec<&str> = match arg {
                    Value::Array(types) => types.iter().filter_map(Value::as_str).collect(),
                    one => vec![one.as_str().unwrap()],
                };
                if !types.iter().any(|t| is_a(value, t)) {
                    fail(format!("{value} is not of type {types:?}"));
                }
            }
            "const" if value != arg => fail(format!("{value} is not {arg}")),
            "enum" if !arg.as_array().unwrap().contains(value) => {
                fail(format!("{value} is not one of {arg}"))
            }
            "required" => {
                for name in arg.as_array().unwrap().iter().filter_map(Value::as_str) {
                    if value.is_object() && value.get(name).is_none() {
                        fail(format!("{name} is missing"));
                    }
                }
            }
            "properties" => {
                for (name, sub) in arg.as_object().unwrap() {
                    if let Some(v) = value.get(name).filter(|_| value.is_object()) {
                        nested.push((sub, v, format!("{at}.{name}")));
                    }
                }
            }
            "additionalProperties" => {
                let known = object.get("properties").and_then(Value::as_object);
                for (name, v) in value.as_object().into_iter().flatten() {
                    if !known.is_some_and(|k| k.contains_key(name)) {
                        nested.push((arg, v, format!("{at}.{name}")));
                    }
                }
            }
            "prefixItems" => {
                let items = value.as_array().into_iter().flatten();
                for (i, (sub, v)) in arg.as_array().unwrap().iter().zip(items).enumerate() {
                    nested.push((sub, v, format!("{at}[{i}]")));
                }
            }
            "items" => {
                let prefix = object.get("prefixItems").and_then(Value::as_array);
                let skip = prefix.map_or(0, Vec::len);
                let items = value.as_array().into_iter().flatten().enumerate();
                for (i, v) in items.skip(skip) {
                    nested.push((arg, v, format!("{at}[{i}]")));
                }
            }
            "minItems" | "maxItems" | "minimum" | "maximum" => {
                let actual = if keyword.ends_with("Items") {
                    value.as_array().map(|items| items.len() as f64)
                } else {
                    value.as_f64()
                };
                let bound = arg.as_f64().unwrap();
                let outside = |v: f64| {
                    if keyword.starts_with("min") {
                        v < bound
                    } else {
                        v > bound
                    }
                };
                if let Some(v) = actual.filter(|v| outside(*v)) {
                    fail(format!("{v} breaks {keyword} {bound}"));
                }
            }
            "uniqueItems" => {
                let items = value.as_array().into_iter().flatten();
                let distinct: BTreeSet<String> = items.clone().map(Value::to_string).collect();
                if distinct.len() != items.count() {
                    fail("items repeat".to_owned());
                }
            }
            "oneOf" => {
                let matching = arg
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|sub| {
                        let mut e = Vec::new();
                        check(doc, sub, value, at, &mut e);
                        e.is_empty()
                    })
                    .count();
                if matching != 1 {
                    fail(format!("matches {matching} of oneOf, not 1"));
                }
            }
            "const" | "enum" | "description" | "examples" | "default" | "format" | "pattern"
            | "discriminator" | "contentEncoding" | "title" => {}
            other => fail(format!(
                "the test does not know keyword {other:?}: teach check()"
            )),
        }
    }
    for (sub, v, path) in nested {
        check(doc, sub, v, &path, errors);
    }
}

fn is_a(value: &Value, json_type: &str) -> bool {
    match json_type {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        other => panic!("{other:?} is not a JSON Schema type"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refusals_of_an_api_without_a_token_are_documented() {
    let app = TestApp::spawn_with(&[("POSTCALL__AGGREGATION__ENABLED", "false")]).await;
    let doc = document();
    let client = reqwest::Client::new();
    let mut problems = Vec::new();
    for (method, path, operation) in operations(&doc) {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        let url = format!("{}{}", app.http, filled(&path));
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let rebound = client.request(method, &url).header("host", "evil.example");
        let response = rebound.send().await.unwrap();
        if response.status() != 403 {
            problems.push(format!("{path}: {} to a foreign Host", response.status()));
        }
        problems.extend(undocumented(&doc, operation, &path, response).await);
    }
    let survey = &doc["paths"]["/api/v1/surveys/{call_id}"]["get"];
    for call_id in ["a%00b".to_owned(), "x".repeat(129)] {
        let url = format!("{}/api/v1/surveys/{call_id}", app.http);
        let response = client.get(url).send().await.unwrap();
        if response.status() != 400 {
            problems.push(format!("surveys/{call_id}: {}", response.status()));
        }
        problems.extend(undocumented(&doc, survey, "/api/v1/surveys/{call_id}", response).await);
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
