package ai.chunkwise.tokenize.input;

import java.io.Serializable;

/**
 * One record read from the input: a document's text, or the reason it was skipped.
 *
 * <p>(file, index) is the document's stable identity: the file path relative to the input root and the
 * record's index in that file (0 for a text file, the line's byte offset in the decompressed file for
 * lines/jsonl, the row index for Parquet). It never depends on how Spark split the input.
 * A plain class, not a record: Spark's serializers (Kryo) cannot set a record's final fields.
 */
public final class SourceRecord implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final long index;
    private final String text;
    private final String skipReason;

    private SourceRecord(String file, long index, String text, String skipReason) {
        this.file = file;
        this.index = index;
        this.text = text;
        this.skipReason = skipReason;
    }

    public static SourceRecord document(String file, long index, String text) {
        return new SourceRecord(file, index, text, null);
    }

    public static SourceRecord skipped(String file, long index, SkipReason reason) {
        return new SourceRecord(file, index, null, reason.key());
    }

    public String file() {
        return file;
    }

    public long index() {
        return index;
    }

    /** The document text; null when skipped. */
    public String text() {
        return text;
    }

    /** The skip reason key (see {@link SkipReason}); null for a document. */
    public String skipReason() {
        return skipReason;
    }

    @Override
    public String toString() {
        return file + "#" + index + (skipReason != null ? " skipped: " + skipReason : "");
    }
}
