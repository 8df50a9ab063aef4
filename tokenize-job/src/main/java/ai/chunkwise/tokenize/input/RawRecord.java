package ai.chunkwise.tokenize.input;

import java.io.Serializable;

/**
 * One input record as read, before decoding: the identity of a document and its raw bytes.
 *
 * <p>Decoding (strict UTF-8, JSON) is left to the tokenizing tasks so that it runs in parallel even when the
 * input is a single unsplittable file, and because shipping bytes between stages is cheaper than shipping
 * Strings. (file, index) is the document's stable identity: the file path relative to the input root and the
 * record's index in that file (0 for a text file, the line's byte offset in the decompressed file for
 * lines/jsonl, the row index for Parquet). It never depends on how Spark split the input.
 * A plain class, not a record: Spark's Kryo serializer cannot set a record's final fields.
 */
public final class RawRecord implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final long index;
    private final byte[] bytes;

    public RawRecord(String file, long index, byte[] bytes) {
        this.file = file;
        this.index = index;
        this.bytes = bytes;
    }

    public String file() {
        return file;
    }

    public long index() {
        return index;
    }

    /** The record's bytes; null for a Parquet NULL. */
    public byte[] bytes() {
        return bytes;
    }
}
