/**
 * OpenAI's tool format for the machines' events: the chat-completions `tools` entries, built from
 * the one zod schema each event has (`machines/claim/claim.events.ts`, `machines/call/call.events.ts`).
 */
import { z } from 'zod';
import {
  claimToolArgSchemas,
  toolNameOf,
  type ClaimToolEventType,
} from '../../../machines/claim/claim.events.js';
import { callToolArgSchemas, type CallToolEventType } from '../../../machines/call/call.events.js';

/** A tool definition in the OpenAI chat-completions `tools` format. */
export interface ToolDefinition {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

/**
 * The tool definition of one event, built from its schema (the single source of truth) once and
 * shared: don't mutate it.
 */
export function toolDefinitionOf(eventType: ClaimToolEventType | CallToolEventType): ToolDefinition {
  // The schemas are static: build each definition's JSON schema once, not on every request.
  let def = definitions.get(eventType);
  if (!def) {
    def = buildToolDefinition(eventType);
    definitions.set(eventType, def);
  }
  return def;
}

const definitions = new Map<string, ToolDefinition>();

function buildToolDefinition(eventType: ClaimToolEventType | CallToolEventType): ToolDefinition {
  const schema =
    eventType in claimToolArgSchemas
      ? claimToolArgSchemas[eventType as ClaimToolEventType]
      : callToolArgSchemas[eventType as CallToolEventType];
  const parameters = z.toJSONSchema(schema, { target: 'draft-7' }) as Record<string, unknown>;
  delete parameters.$schema;
  delete parameters.description;
  return {
    type: 'function',
    function: { name: toolNameOf(eventType), description: schema.description ?? eventType, parameters },
  };
}
