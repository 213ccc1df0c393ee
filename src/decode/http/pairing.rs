//! Requests waiting for their responses, in the order they were sent.
//!
//! HTTP/1.x answers requests in order, so a response belongs to the oldest
//! request without one. A request joins the queue as soon as its head is
//! parsed (the server may answer before its body ends: `100 Continue`, early
//! errors), and an exchange leaves from the front once the request is whole
//! and answered, so exchanges come out in request order.

use std::collections::VecDeque;
use std::mem::size_of;

use super::{Exchange, Header, HttpCounters, Message, Request, Response};
use crate::decode::flow::FlowId;

/// One request and, once seen, its response.
#[derive(Debug)]
struct Slot {
    request: Request,
    /// The request's last byte was seen (or will never be).
    done: bool,
    response: Option<Response>,
}

/// The queue of waiting requests of one flow, capped at `max` entries.
#[derive(Debug)]
pub(super) struct Pairing {
    slots: VecDeque<Slot>,
    /// Sequence number of `slots[0]`; each request gets the next number.
    base: u64,
    max: usize,
}

impl Pairing {
    /// An empty queue holding at most `max` requests (at least one).
    pub fn new(max: usize) -> Self {
        Pairing {
            slots: VecDeque::new(),
            base: 0,
            max: max.max(1),
        }
    }

    /// Queues a request whose head was parsed; returns its sequence number.
    /// A full queue first emits its oldest request as it is.
    pub fn push(
        &mut self,
        request: Request,
        flow: FlowId,
        out: &mut Vec<Exchange>,
        counters: &mut HttpCounters,
    ) -> u64 {
        if self.slots.len() >= self.max
            && let Some(slot) = self.slots.pop_front()
        {
            self.base += 1;
            counters.pending_overflow += 1;
            out.push(exchange(flow, slot));
        }
        self.slots.push_back(Slot {
            request,
            done: false,
            response: None,
        });
        self.base + self.slots.len() as u64 - 1
    }

    /// The slot of request `seq`, unless it already left the queue.
    fn slot_mut(&mut self, seq: u64) -> Option<&mut Slot> {
        let i = usize::try_from(seq.checked_sub(self.base)?).ok()?;
        self.slots.get_mut(i)
    }

    /// Request `seq`, unless it already left the queue.
    pub fn request_mut(&mut self, seq: u64) -> Option<&mut Request> {
        self.slot_mut(seq).map(|s| &mut s.request)
    }

    /// Marks request `seq` as whole (or as ended for good).
    pub fn request_done(&mut self, seq: u64) {
        if let Some(slot) = self.slot_mut(seq) {
            slot.done = true;
        }
    }

    /// The oldest request without a response: its number and method.
    pub fn next_unanswered(&self) -> Option<(u64, &str)> {
        let i = self.slots.iter().position(|s| s.response.is_none())?;
        Some((self.base + i as u64, self.slots[i].request.method.as_str()))
    }

    /// Attaches the response of request `seq` (dropped when `seq` already left).
    pub fn answer(&mut self, seq: u64, response: Response) {
        if let Some(slot) = self.slot_mut(seq) {
            slot.response = Some(response);
        }
    }

    /// Emits the exchanges at the front that are whole.
    pub fn emit_ready(&mut self, flow: FlowId, out: &mut Vec<Exchange>) {
        while self
            .slots
            .front()
            .is_some_and(|s| s.done && s.response.is_some())
        {
            if let Some(slot) = self.slots.pop_front() {
                self.base += 1;
                out.push(exchange(flow, slot));
            }
        }
    }

    /// Emits everything, answered or not (the flow is gone).
    pub fn emit_all(&mut self, flow: FlowId, out: &mut Vec<Exchange>) {
        self.base += self.slots.len() as u64;
        out.extend(self.slots.drain(..).map(|slot| exchange(flow, slot)));
    }

    /// Bytes held by the queued requests and responses.
    pub fn memory(&self) -> usize {
        self.slots.capacity() * size_of::<Slot>()
            + self
                .slots
                .iter()
                .map(|s| {
                    request_memory(&s.request) + s.response.as_ref().map_or(0, response_memory)
                })
                .sum::<usize>()
    }
}

/// The exchange of a slot leaving the queue; an unfinished request is marked incomplete.
fn exchange(flow: FlowId, mut slot: Slot) -> Exchange {
    if !slot.done {
        slot.request.message.complete = false;
    }
    Exchange {
        flow,
        request: slot.request,
        response: slot.response,
    }
}

/// Heap bytes of a request (strings, headers, preview).
pub(super) fn request_memory(r: &Request) -> usize {
    r.method.capacity()
        + r.path.capacity()
        + r.host.as_ref().map_or(0, String::capacity)
        + message_memory(&r.message)
}

/// Heap bytes of a response, beyond its own size.
pub(super) fn response_memory(r: &Response) -> usize {
    r.reason.capacity() + r.interim.capacity() * size_of::<u16>() + message_memory(&r.message)
}

/// Heap bytes of a message's headers, content type and preview.
fn message_memory(m: &Message) -> usize {
    m.headers.capacity() * size_of::<Header>()
        + m.headers
            .iter()
            .map(|h| h.name.capacity() + h.value.capacity())
            .sum::<usize>()
        + m.content_type.as_ref().map_or(0, String::capacity)
        + m.body_preview.capacity()
}
