//! A path of the model as a message sequence chart in SVG: what stateright's Explorer
//! shows beside each path (`Model::as_svg`), and what `tls12 check --svg FILE` draws for
//! a counterexample.
//!
//! One lifeline per client and one for the server; each step is a row. A delivered record
//! is an arrow from its sender to its receiver, labelled with its connection and its
//! messages (`conn 1: ServerHello, ChangeCipherSpec, Finished`) and, under the arrowhead,
//! the state the receiver is in afterwards. A record the attacker made or changed is drawn
//! red; an attacker's move is a red band across the lifelines; a fatal alert is drawn
//! orange; connects, ignores, timers and closes are notes on their lifeline.

use std::fmt::Write as _;

use crate::{describe_record, Action, Side, State, Tls12Model};

const LANE: usize = 360;
const MARGIN: usize = 40;
const ROW: usize = 38;
const TOP: usize = 70;

/// Escapes text for SVG.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The x of lifeline `lane` (clients 0.., then the server).
fn x(lane: usize) -> usize {
    MARGIN + LANE / 2 + lane * LANE
}

/// The chart of a path: `(state, action taken from it)` pairs, the last without action.
pub fn sequence_chart(model: &Tls12Model, path: &[(State, Option<Action>)]) -> String {
    let clients = model.cfg.clients;
    let server = clients;
    let steps: Vec<(&State, &Action, Option<&State>)> = path
        .iter()
        .enumerate()
        .filter_map(|(i, (s, a))| Some((s, a.as_ref()?, path.get(i + 1).map(|(n, _)| n))))
        .collect();
    let width = 2 * MARGIN + LANE * (clients + 1);
    let height = TOP + ROW * (steps.len() + 1) + 20;
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="12">
<defs>
<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#222"/></marker>
<marker id="arrow-red" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#c00"/></marker>
<marker id="arrow-orange" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#d60"/></marker>
</defs>
<rect width="100%" height="100%" fill="white"/>
"##
    );
    // Lifelines and their heads.
    for lane in 0..=clients {
        let name = match lane == server {
            true => "server".to_string(),
            false => format!("client {lane}"),
        };
        let _ = write!(
            out,
            r##"<rect x="{}" y="12" width="140" height="28" rx="4" fill="#eef3fb" stroke="#345"/>
<text x="{}" y="31" text-anchor="middle" font-weight="bold">{name}</text>
<line x1="{}" y1="40" x2="{}" y2="{}" stroke="#9ab" stroke-dasharray="4 4"/>
"##,
            x(lane) - 70,
            x(lane),
            x(lane),
            x(lane),
            height - 10
        );
    }
    for (row, (state, action, next)) in steps.iter().enumerate() {
        let y = TOP + ROW * row + ROW / 2;
        draw_step(&mut out, model, state, action, *next, y, server);
    }
    out.push_str("</svg>\n");
    out
}

fn note(out: &mut String, lane: usize, y: usize, text: &str, color: &str) {
    let w = (text.chars().count() * 7 + 14).min(LANE * 2 - 20);
    let left = x(lane).saturating_sub(w / 2).max(2);
    let _ = write!(
        out,
        r##"<rect x="{left}" y="{}" width="{w}" height="22" rx="3" fill="{color}" stroke="#888"/>
<text x="{}" y="{}" text-anchor="middle">{}</text>
"##,
        y - 11,
        left + w / 2,
        y + 4,
        esc(text)
    );
}

fn draw_step(
    out: &mut String,
    model: &Tls12Model,
    state: &State,
    action: &Action,
    next: Option<&State>,
    y: usize,
    server: usize,
) {
    let client_of = |conn: usize| conn / model.cfg.conns.max(1);
    match action {
        Action::Connect { client } | Action::Reconnect { client, .. } => {
            let conn = next
                .and_then(|n| {
                    (0..n.conns.len())
                        .find(|&i| n.conns[i].client.is_some() && state.conns[i].client.is_none())
                })
                .unwrap_or(0);
            let offer = match &state.sessions[*client] {
                Some(s) if s.ticket.is_some() => ", offers its ticket".to_string(),
                Some(s) => format!(
                    ", offers session {}",
                    tls12::msgs::base::hex(s.id.as_bytes().get(..4).unwrap_or_default())
                ),
                None => String::new(),
            };
            let change = match action {
                Action::Reconnect { change, .. } => format!(" ({change:?})"),
                _ => String::new(),
            };
            note(
                out,
                *client,
                y,
                &format!("conn {conn}: connects{change}{offer}"),
                "#fffbe6",
            );
        }
        Action::Deliver { conn, .. } | Action::DeliverUnwilling { conn, .. } => {
            let side = match action {
                Action::Deliver { side, .. } => *side,
                _ => Side::ToServer,
            };
            let c = &state.conns[*conn];
            let channel = c.channel(side);
            let Some(record) = channel.queue.front() else {
                return;
            };
            // What the honest sender sent in this place: anything else the attacker made.
            let forged = channel.sent.get(channel.delivered) != Some(record);
            let mut label = format!("conn {conn}: {}", describe_record(record));
            if let Action::DeliverUnwilling { why, .. } = action {
                let _ = write!(label, " (server unwilling to resume: {why:?})");
            }
            let fatal = label.contains("Alert(Fatal");
            let (from, to) = match side {
                Side::ToServer => (client_of(*conn), server),
                Side::ToClient => (server, client_of(*conn)),
            };
            let receiver = next.map(|n| {
                let nc = &n.conns[*conn];
                let (name, alert) = match side {
                    Side::ToServer => nc
                        .server
                        .as_ref()
                        .map(|s| (s.state_name(), s.error().and_then(|e| e.alert_sent()))),
                    Side::ToClient => nc
                        .client
                        .as_ref()
                        .map(|c| (c.state_name(), c.error().and_then(|e| e.alert_sent()))),
                }
                .unwrap_or(("", None));
                let mut label = match alert {
                    Some(alert) => format!("{name}: sent fatal {alert:?}"),
                    None => name.to_string(),
                };
                // What the server's cache did: a lookup's outcome, a session stored or
                // evicted.
                if side == Side::ToServer && c.cache_hit.is_none() {
                    match nc.cache_hit {
                        Some(true) => label.push_str("; cache hit"),
                        Some(false) => label.push_str("; cache miss"),
                        None => {}
                    }
                }
                let ids = |s: &State| -> Vec<String> {
                    s.cache
                        .sessions()
                        .map(|x| {
                            tls12::msgs::base::hex(x.id.as_bytes().get(..4).unwrap_or_default())
                        })
                        .collect()
                };
                let (was, now) = (ids(state), ids(n));
                for id in now.iter().filter(|id| !was.contains(id)) {
                    let _ = write!(label, "; caches {id}");
                }
                for id in was.iter().filter(|id| !now.contains(id)) {
                    let _ = write!(label, "; evicts {id}");
                }
                label
            });
            arrow(out, from, to, y, &label, forged, fatal, receiver.as_deref());
        }
        Action::Ignore { conn } => {
            let from = client_of(*conn);
            let _ = write!(
                out,
                r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#222" stroke-dasharray="6 3"/>
<text x="{}" y="{}" font-size="16" fill="#c00" text-anchor="middle">✕</text>
<text x="{}" y="{}" text-anchor="middle">conn {conn}: ClientHello, ignored by the server</text>
"##,
                x(from),
                x(server) - 8,
                x(server),
                y + 6,
                (x(from) + x(server)) / 2,
                y - 5
            );
        }
        Action::Timeout { conn } => note(
            out,
            client_of(*conn),
            y,
            &format!("conn {conn}: timer fires: fatal, closed"),
            "#fde2e2",
        ),
        Action::Close { conn } => note(
            out,
            client_of(*conn),
            y,
            &format!("conn {conn}: closes (close_notify)"),
            "#eef3fb",
        ),
        Action::RotateTicketKey { drop_previous } => note(
            out,
            server,
            y,
            match drop_previous {
                true => "rotates its ticket key, drops the previous",
                false => "rotates its ticket key, keeps the previous",
            },
            "#eef3fb",
        ),
        Action::Renegotiate { conn } => note(
            out,
            client_of(*conn),
            y,
            &format!("conn {conn}: asks to renegotiate"),
            "#eef3fb",
        ),
        Action::Attack {
            conn,
            side,
            mv,
            arg,
        } => {
            let c = &state.conns[*conn];
            let head = c
                .channel(*side)
                .queue
                .front()
                .map(|r| describe_record(r))
                .unwrap_or_else(|| "nothing".into());
            let what = match mv {
                crate::Move::Tamper => format!(
                    "{:?}",
                    crate::Tamper::ALL
                        .get(*arg)
                        .copied()
                        .unwrap_or(crate::Tamper::ALL[0])
                ),
                crate::Move::Skip => format!("message {arg}"),
                crate::Move::Replay => format!("record {arg}"),
                _ => String::new(),
            };
            let (left, right) = (6, x(server) + LANE / 2 - 6);
            let _ = write!(
                out,
                r##"<rect x="{left}" y="{}" width="{}" height="24" rx="3" fill="#ffe5e5" stroke="#c00"/>
<text x="{}" y="{}" text-anchor="middle" fill="#a00" font-weight="bold" font-size="11">⚡ attacker: {mv:?} {} on conn {conn}, {side} (next record: {})</text>
"##,
                y - 12,
                right - left,
                (left + right) / 2,
                y + 4,
                esc(&what),
                esc(&head)
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn arrow(
    out: &mut String,
    from: usize,
    to: usize,
    y: usize,
    label: &str,
    forged: bool,
    fatal: bool,
    receiver: Option<&str>,
) {
    let (color, marker) = match (forged, fatal) {
        (true, _) => ("#c00", "arrow-red"),
        (false, true) => ("#d60", "arrow-orange"),
        (false, false) => ("#222", "arrow"),
    };
    let (x1, x2) = (x(from), x(to));
    let mid = (x1 + x2) / 2;
    let label = match forged {
        true => format!("{label} [attacker's]"),
        false => label.to_string(),
    };
    let _ = write!(
        out,
        r##"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{color}" stroke-width="1.5" marker-end="url(#{marker})"/>
<text x="{mid}" y="{}" text-anchor="middle" fill="{color}" stroke="white" stroke-width="4" paint-order="stroke">{}</text>
"##,
        y - 5,
        esc(&label)
    );
    if let Some(name) = receiver.filter(|n| !n.is_empty()) {
        let (anchor, tx) = match x2 > x1 {
            true => ("end", x2 - 4),
            false => ("start", x2 + 4),
        };
        let _ = writeln!(
            out,
            r##"<text x="{tx}" y="{}" text-anchor="{anchor}" font-size="10" fill="#567" stroke="white" stroke-width="3" paint-order="stroke">{}</text>"##,
            y + 13,
            esc(name)
        );
    }
}
