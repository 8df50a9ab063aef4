package ai.chunkwise.tokenize.input;

/** A decoded input record: a document's text, or the reason it is skipped; identity as in {@link RawRecord}. */
public final class SourceRecord {

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
