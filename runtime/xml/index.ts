/** The XML stream layer (RFC 6120 §4, §11): incremental parser and serializer. */
export { StreamParser, type ParserEvent, type StreamParserOptions } from './parser.js';
export { serializeElement, serializeHeader, STREAM_CLOSE_TAG } from './serialize.js';
export { DEFAULT_PARSER_OPTIONS } from './options.js';
