/**
 * How each stream error condition (RFC 6120 §4.9.3) is reached in a machine, read from the
 * machine itself: every transition whose `meta.rfc` cites the condition's section, with its
 * state, event, guard and description. Nothing is kept beside the transitions, so a new
 * trigger is documented the moment it is written.
 */
import { STREAM_ERROR_CONDITIONS, streamErrorSection, type StreamErrorCondition } from '../conditions.js';
import type { MachineModel, TransitionInfo } from './model.js';
import { rfc6120Sections } from './sections.js';

export interface Trigger {
  /** State that owns the transition ('' for the machine root). */
  readonly state: string;
  readonly event: string;
  readonly guard?: string;
  readonly description?: string;
  /** The transition cites §4.9.3 itself: its event chooses the condition (an operator's FAIL, the XML layer's PARSE_ERROR). */
  readonly generic?: true;
}

const triggerOf = (t: TransitionInfo): Trigger => ({
  state: t.source,
  event: t.event,
  ...(t.guard !== undefined && { guard: t.guard }),
  ...(t.description !== undefined && { description: t.description }),
});

/**
 * Condition → the transitions that cite its §4.9.3.x section. A condition no transition cites
 * is still reachable through a generic one (citing §4.9.3 itself, the condition taken from the
 * event); those are listed for it, marked `generic`. [] when the machine sends no stream error.
 */
export function streamErrorTriggers(model: MachineModel): Readonly<Record<StreamErrorCondition, readonly Trigger[]>> {
  const bySection = new Map<string, Trigger[]>();
  for (const t of model.transitions) {
    for (const s of new Set(rfc6120Sections(t.rfc))) {
      const list = bySection.get(s) ?? [];
      list.push(triggerOf(t));
      bySection.set(s, list);
    }
  }
  const generic = (bySection.get('4.9.3') ?? []).map((t): Trigger => ({ ...t, generic: true }));
  const out = {} as Record<StreamErrorCondition, readonly Trigger[]>;
  for (const c of STREAM_ERROR_CONDITIONS) out[c] = bySection.get(streamErrorSection(c)) ?? generic;
  return out;
}
