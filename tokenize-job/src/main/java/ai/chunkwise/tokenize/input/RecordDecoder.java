package ai.chunkwise.tokenize.input;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Turns one input record's bytes into a {@link SourceRecord}: strict UTF-8 decoding (Java's String constructor
 * would silently replace bad bytes), JSON field extraction, and the empty-document check.
 * Not thread-safe (reuses a decoder); make one per partition.
 */
public final class RecordDecoder {
    private static final char REPLACEMENT = '\uFFFD';
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final ObjectMapper json = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private final InputFormat format;
    private final String textField;

    /** @param textField the JSON field holding the text (jsonl only; may be null otherwise) */
    public RecordDecoder(InputFormat format, String textField) {
        this.format = format;
        this.textField = textField;
    }

    public SourceRecord decode(RawRecord r) {
        byte[] b = r.bytes();
        return switch (format) {
            case TEXT, LINES -> text(r.file(), r.index(), b, b.length);
            case JSONL -> jsonLine(r.file(), r.index(), b, b.length);
            case PARQUET -> column(r.file(), r.index(), b);
        };
    }

    /** A plain-text document (text and lines formats). */
    public SourceRecord text(String file, long index, byte[] bytes, int length) {
        String text = decodeUtf8(bytes, length);
        if (text == null) {
            return SourceRecord.skipped(file, index, SkipReason.INVALID_UTF8);
        }
        return checkedDocument(file, index, text);
    }

    /** A JSON Lines record: the document is the string field {@code textField}. */
    public SourceRecord jsonLine(String file, long index, byte[] bytes, int length) {
        String line = decodeUtf8(bytes, length);
        if (line == null) {
            return SourceRecord.skipped(file, index, SkipReason.INVALID_UTF8);
        }
        if (line.isBlank()) {
            return SourceRecord.skipped(file, index, SkipReason.EMPTY);
        }
        JsonNode node;
        try {
            node = json.readTree(line);
        } catch (JsonProcessingException e) {
            return SourceRecord.skipped(file, index, SkipReason.INVALID_JSON);
        }
        if (node == null || !node.isObject()) {
            return SourceRecord.skipped(file, index, SkipReason.INVALID_JSON);
        }
        JsonNode field = node.get(textField);
        if (field == null || field.isNull()) {
            return SourceRecord.skipped(file, index, SkipReason.MISSING_FIELD);
        }
        if (!field.isTextual()) {
            return SourceRecord.skipped(file, index, SkipReason.NON_STRING_FIELD);
        }
        return checkedDocument(file, index, field.textValue());
    }

    /** A Parquet value given as its raw UTF-8 bytes (null = SQL NULL). */
    public SourceRecord column(String file, long index, byte[] bytesOrNull) {
        if (bytesOrNull == null) {
            return SourceRecord.skipped(file, index, SkipReason.MISSING_FIELD);
        }
        return text(file, index, bytesOrNull, bytesOrNull.length);
    }

    private static SourceRecord checkedDocument(String file, long index, String text) {
        if (text.isBlank()) {
            return SourceRecord.skipped(file, index, SkipReason.EMPTY);
        }
        return SourceRecord.document(file, index, text);
    }

    /** Strictly decoded text, or null if the bytes are not valid UTF-8. */
    String decodeUtf8(byte[] bytes, int length) {
        // Fast path: the String constructor decodes without the decoder's intermediate CharBuffer copy (and
        // ASCII/Latin-1 text straight into a compact String), but replaces bad bytes with U+FFFD. No U+FFFD in
        // its result means no bad bytes, and then both decoders give the same text.
        String lenient = new String(bytes, 0, length, StandardCharsets.UTF_8);
        if (lenient.indexOf(REPLACEMENT) < 0) {
            return lenient;
        }
        // a U+FFFD either stands for bad bytes or is in the text itself: only the strict decoder can tell
        try {
            return utf8.decode(ByteBuffer.wrap(bytes, 0, length)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
