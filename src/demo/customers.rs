//! The customers who get a survey, and how each of them answers it: a personality, and a
//! script of replies written in advance from a seed, so that the demo knows independently
//! of the worker what every customer meant to say.

use std::collections::VecDeque;

use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};

use super::calls::{Call, Expect};
use crate::domain::reply::AnswerValue;

/// The default survey's questions, in order (DESIGN.md §3): the demo always runs it.
pub const RESOLVED: usize = 0;
pub const SATISFACTION: usize = 1;
pub const RECOMMEND: usize = 2;
pub const COMMENT: usize = 3;

/// How a customer treats a survey SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Persona {
    /// Answers every question at once, and sometimes leaves a comment.
    Prompt,
    /// Sends something unreadable to one question, then answers the re-prompt.
    Garbled,
    /// Unreadable twice to one question (it is skipped), then carries on.
    Hopeless,
    /// Asks for help first, then answers.
    HelpSeeker,
    /// Answers a question or two, then opts out.
    QuitsMidway,
    /// Opts out at the first SMS.
    OptsOut,
    /// Answers a question or two, then stops replying.
    Partial,
    /// Reads the SMS and never replies.
    Silent,
    /// The phone is off: the first SMS is reported undelivered.
    Unreachable,
}

/// Which SMS a scripted reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The question with this index (asked, or asked again after a miss).
    Question(usize),
    /// The help text.
    Help,
}

/// What a reply means, as the customer meant it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Answer(usize, AnswerValue),
    /// Not readable as an answer to this question; `again` when it is the second miss.
    Garbage {
        question: usize,
        again: bool,
    },
    OptOut,
    Help,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub on: Trigger,
    pub text: String,
    pub intent: Intent,
}

/// A customer with a survey: the scheduled call, and the replies still to send.
#[derive(Debug, Clone)]
pub struct Customer {
    pub call: Call,
    pub persona: Persona,
    /// Every reply in the order it is meant to be sent.
    pub planned: Vec<Step>,
    script: VecDeque<Step>,
    opted_out: bool,
}

/// What a customer does on receiving one SMS.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reaction {
    pub reply: Option<Step>,
    /// Something the worker should not have done, seen from the customer's phone.
    pub surprise: Option<String>,
}

impl Customer {
    pub fn delivered(&self) -> bool {
        self.persona != Persona::Unreachable
    }

    /// Every scripted reply has been sent.
    pub fn done(&self) -> bool {
        self.script.is_empty()
    }

    /// What the customer is waiting for next, if anything.
    pub fn waiting_for(&self) -> Option<Trigger> {
        self.script.front().map(|s| s.on)
    }

    /// Reacts to one SMS the worker sent: `purpose` and `question` as stored with it.
    pub fn receive(&mut self, purpose: &str, question: Option<usize>) -> Reaction {
        if self.opted_out && purpose != "opt_out_confirmation" {
            return Reaction {
                reply: None,
                surprise: Some(format!("a `{purpose}` SMS after the customer opted out")),
            };
        }
        let asked = match (purpose, question) {
            ("help", _) => Trigger::Help,
            ("question" | "follow_up", Some(q)) => Trigger::Question(q),
            _ => return Reaction::default(),
        };
        match self.script.front() {
            None => Reaction::default(),
            Some(step) if step.on == asked => {
                let step = self.script.pop_front().expect("front exists");
                self.opted_out = step.intent == Intent::OptOut;
                Reaction {
                    reply: Some(step),
                    surprise: None,
                }
            }
            Some(step) => {
                let surprise = format!("waited for {:?} but was sent {asked:?}", step.on);
                // The script no longer fits the conversation: the customer gives up.
                self.script.clear();
                Reaction {
                    reply: None,
                    surprise: Some(surprise),
                }
            }
        }
    }
}

/// The customers of the calls that should get a survey, each with a persona and a script.
pub fn customers(calls: &[Call], seed: u64) -> Vec<Customer> {
    // Its own stream: changing how calls are generated does not reshuffle the replies.
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed_c057_0e75);
    calls
        .iter()
        .filter(|c| c.expect == Expect::Scheduled)
        .map(|call| {
            let persona = persona(&mut rng);
            let english = call.language == Some("en");
            let feeling = feeling(&mut rng, call.agent.quality);
            let planned = script(&mut rng, persona, english, feeling);
            Customer {
                call: call.clone(),
                persona,
                script: planned.iter().cloned().collect(),
                planned,
                opted_out: false,
            }
        })
        .collect()
}

fn persona(rng: &mut StdRng) -> Persona {
    const WEIGHTS: [(Persona, f64); 9] = [
        (Persona::Prompt, 0.40),
        (Persona::Garbled, 0.09),
        (Persona::Hopeless, 0.02),
        (Persona::HelpSeeker, 0.02),
        (Persona::QuitsMidway, 0.04),
        (Persona::OptsOut, 0.03),
        (Persona::Partial, 0.10),
        (Persona::Silent, 0.27),
        (Persona::Unreachable, 0.03),
    ];
    let mut p = rng.random::<f64>();
    for (persona, weight) in WEIGHTS {
        if p < weight {
            return persona;
        }
        p -= weight;
    }
    Persona::Prompt
}

/// How the call went for this customer, in [0, 1]: the agent's quality and some luck.
fn feeling(rng: &mut StdRng, quality: f64) -> f64 {
    let luck = rng.random::<f64>() + rng.random::<f64>() - 1.0;
    (quality + 0.3 * luck).clamp(0.0, 1.0)
}

/// The answers a customer with this feeling gives, consistent with each other.
struct Answers {
    resolved: bool,
    satisfaction: i32,
    recommend: i32,
}

fn answers(rng: &mut StdRng, feeling: f64) -> Answers {
    let jitter = |rng: &mut StdRng, width: f64| (rng.random::<f64>() - 0.5) * width;
    Answers {
        resolved: rng.random_bool((0.25 + 0.72 * feeling).clamp(0.0, 1.0)),
        satisfaction: (1.2 + 4.0 * feeling + jitter(rng, 1.2))
            .round()
            .clamp(1.0, 5.0) as i32,
        recommend: (1.5 + 9.5 * feeling + jitter(rng, 2.5))
            .round()
            .clamp(0.0, 10.0) as i32,
    }
}

fn script(rng: &mut StdRng, persona: Persona, english: bool, feeling: f64) -> Vec<Step> {
    let said = answers(rng, feeling);
    let words = Words { english };
    let answer = |rng: &mut StdRng, q: usize| -> Step {
        let (text, value) = match q {
            RESOLVED => (
                words.yes_no(rng, said.resolved),
                AnswerValue::YesNo(said.resolved),
            ),
            SATISFACTION => (
                words.csat(rng, said.satisfaction),
                AnswerValue::Scale(said.satisfaction),
            ),
            RECOMMEND => (
                words.nps(rng, said.recommend),
                AnswerValue::Scale(said.recommend),
            ),
            _ => {
                let text = words.comment(rng, feeling);
                (text.clone(), AnswerValue::Text(text))
            }
        };
        Step {
            on: Trigger::Question(q),
            text,
            intent: Intent::Answer(q, value),
        }
    };
    let garbage = |rng: &mut StdRng, q: usize, again: bool| Step {
        on: Trigger::Question(q),
        text: words.garbage(rng, q),
        intent: Intent::Garbage { question: q, again },
    };
    let comments = rng.random_bool(0.5);
    let mut steps = Vec::new();
    match persona {
        Persona::Prompt | Persona::Garbled | Persona::Hopeless | Persona::HelpSeeker => {
            let missed = rng.random_range(RESOLVED..=RECOMMEND);
            for q in RESOLVED..=RECOMMEND {
                match persona {
                    Persona::Garbled if q == missed => {
                        steps.push(garbage(rng, q, false));
                        steps.push(answer(rng, q));
                    }
                    Persona::Hopeless if q == missed => {
                        steps.push(garbage(rng, q, false));
                        steps.push(garbage(rng, q, true));
                    }
                    Persona::HelpSeeker if q == RESOLVED => {
                        steps.push(Step {
                            on: Trigger::Question(q),
                            text: words.help(),
                            intent: Intent::Help,
                        });
                        steps.push(Step {
                            on: Trigger::Help,
                            ..answer(rng, q)
                        });
                    }
                    _ => steps.push(answer(rng, q)),
                }
            }
            if comments {
                steps.push(answer(rng, COMMENT));
            }
        }
        Persona::QuitsMidway | Persona::Partial => {
            let answered = rng.random_range(1..=2);
            for q in RESOLVED..answered {
                steps.push(answer(rng, q));
            }
            if persona == Persona::QuitsMidway {
                steps.push(Step {
                    on: Trigger::Question(answered),
                    text: words.stop(rng),
                    intent: Intent::OptOut,
                });
            }
        }
        Persona::OptsOut => steps.push(Step {
            on: Trigger::Question(RESOLVED),
            text: words.stop(rng),
            intent: Intent::OptOut,
        }),
        Persona::Silent | Persona::Unreachable => {}
    }
    steps
}

/// How people really write their replies (see src/domain/reply.rs and its test table).
struct Words {
    english: bool,
}

impl Words {
    fn pick(&self, rng: &mut StdRng, zh: &[&str], en: &[&str]) -> String {
        let from = if self.english { en } else { zh };
        from.choose(rng).copied().unwrap_or_default().to_owned()
    }

    fn yes_no(&self, rng: &mut StdRng, yes: bool) -> String {
        if yes {
            self.pick(
                rng,
                &["1", "是", "已解决", "是的，谢谢", "１", "解决了"],
                &["yes", "1", "Y", "Yes, thanks"],
            )
        } else {
            self.pick(
                rng,
                &["2", "否", "未解决", "２", "没有解决"],
                &["no", "2", "N", "No."],
            )
        }
    }

    fn csat(&self, rng: &mut StdRng, n: i32) -> String {
        const CHINESE: [&str; 6] = ["零", "一", "二", "三", "四", "五"];
        let forms = [
            n.to_string(),
            full_width(n),
            format!("{n}分"),
            format!("{n}星"),
            CHINESE[n as usize].to_owned(),
        ];
        if self.english {
            [n.to_string(), format!("{n}/5"), format!("{n}!")]
                .choose(rng)
                .cloned()
                .unwrap_or_default()
        } else {
            forms.choose(rng).cloned().unwrap_or_default()
        }
    }

    fn nps(&self, rng: &mut StdRng, n: i32) -> String {
        let mut forms = if self.english {
            vec![n.to_string(), format!("{n} out of 10")]
        } else {
            vec![n.to_string(), full_width(n), format!("{n}分")]
        };
        if n == 10 {
            forms.push(if self.english {
                "10/10".into()
            } else {
                "十".into()
            });
        }
        forms.choose(rng).cloned().unwrap_or_default()
    }

    fn comment(&self, rng: &mut StdRng, feeling: f64) -> String {
        if feeling >= 0.6 {
            self.pick(
                rng,
                &["客服很耐心，谢谢", "办得很快，点赞", "解释得很清楚"],
                &["Quick and friendly, thanks", "Very helpful agent"],
            )
        } else {
            self.pick(
                rng,
                &["排队太久了", "问题还是没解决，希望尽快处理", "客服态度一般"],
                &[
                    "Waited far too long",
                    "Nobody could tell me what happened to my refund",
                ],
            )
        }
    }

    /// Replies the parser must not guess at: the worker re-prompts them.
    fn garbage(&self, rng: &mut StdRng, question: usize) -> String {
        match question {
            RESOLVED => self.pick(rng, &["？", "好的", "差不多吧"], &["ok", "what?"]),
            SATISFACTION => self.pick(
                rng,
                &["不太满意", "还行吧", "4或5"],
                &["very good", "not bad"],
            ),
            _ => self.pick(rng, &["看情况", "七八分", "3-4"], &["maybe", "depends"]),
        }
    }

    fn stop(&self, rng: &mut StdRng) -> String {
        self.pick(
            rng,
            &["退订", "TD", "T", "退订TD"],
            &["STOP", "stop", "Unsubscribe"],
        )
    }

    fn help(&self) -> String {
        if self.english { "HELP" } else { "帮助" }.to_owned()
    }
}

/// "５" rather than "5": what a Chinese input method types in full-width mode.
fn full_width(n: i32) -> String {
    n.to_string()
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap_or(c))
        .collect()
}

#[cfg(test)]
mod tests;
