use super::*;

const TOL: f64 = 1e-4;

fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < TOL,
        "expected {expected}, got {actual}"
    );
}

fn close_pair(actual: Option<[f64; 2]>, expected: [f64; 2]) {
    let actual = actual.expect("an interval, not None");
    close(actual[0], expected[0]);
    close(actual[1], expected[1]);
}

// Wilson: z² = 3.8416; denom = 1 + z²/n; centre = (p + z²/2n) ÷ denom;
// half = z ÷ denom · √(p(1 − p)/n + z²/4n²).

#[test]
fn wilson_none_for_empty_group() {
    assert_eq!(wilson(0, 0), None);
}

#[test]
fn wilson_all_failures() {
    // 0 of 10: denom = 1.38416; centre = 0.19208 / 1.38416 = 0.138770;
    // half = 1.96 / 1.38416 · √(0.0096040) = 0.19208 / 1.38416 = 0.138770
    // → [0, 0.277540]
    close_pair(wilson(0, 10), [0.0, 0.277540]);
}

#[test]
fn wilson_all_successes() {
    // 10 of 10: centre = (1 + 0.19208) / 1.38416 = 0.861230; half = 0.138770
    // → [0.722460, 1]
    close_pair(wilson(10, 10), [0.722460, 1.0]);
}

#[test]
fn wilson_single_answer_both_outcomes() {
    // n = 1: denom = 4.8416; half = 1.96 / 4.8416 · √(3.8416 / 4) = 1.9208 / 4.8416 = 0.396728
    // 1 of 1: centre = (1 + 1.9208) / 4.8416 = 0.603272 → [0.206543, 1]
    close_pair(wilson(1, 1), [0.206543, 1.0]);
    // 0 of 1: centre = 1.9208 / 4.8416 = 0.396728 → [0, 0.793457]
    close_pair(wilson(0, 1), [0.0, 0.793457]);
}

#[test]
fn wilson_middle_case() {
    // 45 of 100: denom = 1.038416; centre = (0.45 + 0.019208) / 1.038416 = 0.451850;
    // half = 1.96 / 1.038416 · √(0.2475/100 + 3.8416/40000) = 1.96 · √0.00257104 / 1.038416
    //      = 1.96 · 0.0507054 / 1.038416 = 0.0957060
    // → [0.356144, 0.547556]
    close_pair(wilson(45, 100), [0.356144, 0.547556]);
}

#[test]
fn wilson_stays_inside_unit_interval() {
    for n in 1..=50 {
        for s in 0..=n {
            let [lo, hi] = wilson(s, n).unwrap();
            let p = s as f64 / n as f64;
            assert!((0.0..=1.0).contains(&lo) && (0.0..=1.0).contains(&hi));
            assert!(lo <= p && p <= hi, "{s}/{n}: [{lo}, {hi}]");
        }
    }
}

// Adjusted Wald for NPS: n′ = n + 3, p′ = (P + ¾) ÷ n′, d′ = (D + ¾) ÷ n′;
// 100 · ((p′ − d′) ± 1.96 · √((p′ + d′ − (p′ − d′)²) ÷ n′)), clamped to [−100, 100].

#[test]
fn nps_interval_none_for_empty_group() {
    assert_eq!(nps_interval(0, 0, 0), None);
}

#[test]
fn nps_one_promoter_is_not_certainty() {
    // n′ = 4, p′ = 1.75/4 = 0.4375, d′ = 0.75/4 = 0.1875, p′ − d′ = 0.25;
    // variance = 0.625 − 0.0625 = 0.5625; half = 1.96 · √(0.5625/4) = 1.96 · 0.375 = 0.735
    // → [−48.5, 98.5]; the plain Wald interval said [100, 100]
    close_pair(nps_interval(1, 0, 1), [-48.5, 98.5]);
    let s = scores(&Tally {
        nps_n: 1,
        promoters: 1,
        ..Tally::default()
    });
    close(s.nps.score.unwrap(), 100.0);
    // One detractor is its mirror image.
    close_pair(nps_interval(0, 1, 1), [-98.5, 48.5]);
}

#[test]
fn nps_six_promoters_two_detractors_of_ten() {
    // n′ = 13, p′ = 6.75/13 = 0.519231, d′ = 2.75/13 = 0.211538, p′ − d′ = 0.307692;
    // variance = 0.730769 − 0.094675 = 0.636095; half = 1.96 · √(0.636095/13) = 0.433556
    // → [−12.5864, 74.1248]; score = 100 · 4/10 = 40
    close_pair(nps_interval(6, 2, 10), [-12.586377, 74.124838]);
    let s = scores(&Tally {
        nps_n: 10,
        promoters: 6,
        passives: 2,
        detractors: 2,
        ..Tally::default()
    });
    close(s.nps.score.unwrap(), 40.0);
}

#[test]
fn nps_all_promoters() {
    // n′ = 13, p′ = 10.75/13 = 0.826923, d′ = 0.75/13 = 0.057692, p′ − d′ = 0.769231;
    // variance = 0.884615 − 0.591716 = 0.292899; half = 1.96 · √(0.292899/13) = 0.294201
    // → [47.5030, 106.34] → high clamped to 100; score = 100
    close_pair(nps_interval(10, 0, 10), [47.503011, 100.0]);
    let s = scores(&Tally {
        nps_n: 10,
        promoters: 10,
        ..Tally::default()
    });
    close(s.nps.score.unwrap(), 100.0);
}

#[test]
fn nps_all_detractors() {
    // The mirror image of all promoters → [−100 (clamped), −47.5030]; score = −100
    close_pair(nps_interval(0, 10, 10), [-100.0, -47.503011]);
    let s = scores(&Tally {
        nps_n: 10,
        detractors: 10,
        ..Tally::default()
    });
    close(s.nps.score.unwrap(), -100.0);
}

#[test]
fn nps_mixed_case() {
    // 10 promoters, 5 passives, 5 detractors of 20: n′ = 23, p′ = 10.75/23 = 0.467391,
    // d′ = 5.75/23 = 0.25, p′ − d′ = 0.217391; variance = 0.717391 − 0.047259 = 0.670132;
    // half = 1.96 · √(0.670132/23) = 0.334559 → [−11.7167, 55.1950]; score = 100 · 5/20 = 25
    close_pair(nps_interval(10, 5, 20), [-11.716748, 55.195009]);
    let s = scores(&Tally {
        nps_n: 20,
        promoters: 10,
        passives: 5,
        detractors: 5,
        ..Tally::default()
    });
    close(s.nps.score.unwrap(), 25.0);
}

#[test]
fn nps_interval_narrows_with_answers_and_stays_in_range() {
    let width = |p, n| {
        let [lo, hi] = nps_interval(p, 0, n).unwrap();
        assert!((-100.0..=100.0).contains(&lo) && (-100.0..=100.0).contains(&hi));
        hi - lo
    };
    // All promoters: more answers, more certainty, but never a zero-width interval.
    assert!(width(1, 1) > width(10, 10) && width(10, 10) > width(1000, 1000));
    assert!(width(1000, 1000) > 0.0);
    for n in 1..=30 {
        for p in 0..=n {
            for d in 0..=(n - p) {
                let [lo, hi] = nps_interval(p, d, n).unwrap();
                assert!(
                    -100.0 <= lo && lo < hi && hi <= 100.0,
                    "{p}/{d}/{n}: [{lo}, {hi}]"
                );
            }
        }
    }
}

#[test]
fn csat_score_mean_and_interval() {
    // answers 5, 4, 4, 2: satisfied = 3, sum = 15; score = 3 / 4 = 0.75; mean = 15 / 4 = 3.75
    // Wilson 3 of 4: denom = 1.9604; centre = (0.75 + 0.4802) / 1.9604 = 0.627525;
    // half = 1.96 / 1.9604 · √(0.1875/4 + 3.8416/64) = 1.96 · √0.10690 / 1.9604 = 0.326889
    // → [0.300636, 0.954414]
    let s = scores(&Tally {
        csat_n: 4,
        csat_satisfied: 3,
        csat_sum: 15,
        ..Tally::default()
    });
    assert_eq!((s.csat.n, s.csat.satisfied), (4, 3));
    close(s.csat.score.unwrap(), 0.75);
    close(s.csat.mean.unwrap(), 3.75);
    close_pair(s.csat.ci95, [0.300636, 0.954414]);
}

#[test]
fn response_rate_fcr_and_wait() {
    // responses 30 of sent 120 → 0.25; fcr 45 of 100 → 0.45 with the Wilson interval above;
    // wait 900 s over 6 calls → 150 s
    let s = scores(&Tally {
        sent: 120,
        delivered: 110,
        responses: 30,
        fcr_n: 100,
        fcr_yes: 45,
        wait_seconds_sum: 900.0,
        wait_n: 6,
        sms_segments: 250,
        ..Tally::default()
    });
    close(s.response_rate.unwrap(), 0.25);
    close(s.fcr.rate.unwrap(), 0.45);
    close_pair(s.fcr.ci95, [0.356144, 0.547556]);
    close(s.avg_wait_seconds.unwrap(), 150.0);
    assert_eq!((s.sent, s.delivered, s.sms_segments), (120, 110, 250));
    // 250 segments for 30 responses: 8.3333 segments per useful answer.
    close(s.segments_per_response.unwrap(), 250.0 / 30.0);
}

#[test]
fn empty_group_has_nulls_not_zeros() {
    let s = scores(&Tally::default());
    assert_eq!(s.response_rate, None);
    assert_eq!((s.csat.score, s.csat.mean, s.csat.ci95), (None, None, None));
    assert_eq!((s.nps.score, s.nps.ci95), (None, None));
    assert_eq!((s.fcr.rate, s.fcr.ci95), (None, None));
    assert_eq!(s.avg_wait_seconds, None);
}

#[test]
fn empty_group_serialises_nulls() {
    // Something was sent, but nothing answered: counts are 0, every score is null.
    let s = scores(&Tally {
        sent: 3,
        delivered: 2,
        sms_segments: 3,
        ..Tally::default()
    });
    let json = serde_json::to_value(s).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "sent": 3, "delivered": 2, "responses": 0, "response_rate": 0.0,
            "csat": {"n": 0, "satisfied": 0, "score": null, "mean": null, "ci95": null},
            "nps": {"n": 0, "promoters": 0, "passives": 0, "detractors": 0,
                    "score": null, "ci95": null},
            "fcr": {"n": 0, "yes": 0, "rate": null, "ci95": null},
            "avg_wait_seconds": null,
            "sms_segments": 3,
            "segments_per_response": null
        })
    );
    let none_sent = serde_json::to_value(scores(&Tally::default())).unwrap();
    assert!(none_sent["response_rate"].is_null());
}

#[test]
fn interval_serialises_as_pair() {
    let json = serde_json::to_value(scores(&Tally {
        fcr_n: 10,
        fcr_yes: 10,
        ..Tally::default()
    }))
    .unwrap();
    let ci = json["fcr"]["ci95"].as_array().unwrap();
    assert_eq!(ci.len(), 2);
    close(ci[0].as_f64().unwrap(), 0.722460);
    close(ci[1].as_f64().unwrap(), 1.0);
}

#[test]
fn tally_add_sums_every_field() {
    let day1 = Tally {
        sent: 10,
        delivered: 9,
        responses: 4,
        csat_n: 4,
        csat_satisfied: 3,
        csat_sum: 16,
        nps_n: 3,
        promoters: 1,
        passives: 1,
        detractors: 1,
        fcr_n: 2,
        fcr_yes: 1,
        wait_seconds_sum: 120.5,
        wait_n: 10,
        sms_segments: 25,
    };
    let day2 = Tally {
        sent: 5,
        delivered: 5,
        responses: 2,
        csat_n: 2,
        csat_satisfied: 1,
        csat_sum: 7,
        nps_n: 2,
        promoters: 2,
        passives: 0,
        detractors: 0,
        fcr_n: 2,
        fcr_yes: 2,
        wait_seconds_sum: 30.0,
        wait_n: 5,
        sms_segments: 11,
    };
    let mut week = Tally::default();
    week.add(&day1);
    week.add(&day2);
    assert_eq!(
        week,
        Tally {
            sent: 15,
            delivered: 14,
            responses: 6,
            csat_n: 6,
            csat_satisfied: 4,
            csat_sum: 23,
            nps_n: 5,
            promoters: 3,
            passives: 1,
            detractors: 1,
            fcr_n: 4,
            fcr_yes: 3,
            wait_seconds_sum: 150.5,
            wait_n: 15,
            sms_segments: 36,
        }
    );
    // Merged scores come from the summed counts: nps = 100 · (3 − 1) / 5 = 40.
    close(scores(&week).nps.score.unwrap(), 40.0);
}

#[test]
fn tally_round_trips_through_json() {
    let t = Tally {
        sent: 7,
        wait_seconds_sum: 12.25,
        wait_n: 2,
        ..Tally::default()
    };
    let back: Tally = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
    assert_eq!(back, t);
}
