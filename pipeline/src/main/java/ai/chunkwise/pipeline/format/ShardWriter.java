package ai.chunkwise.pipeline.format;

import ai.chunkwise.pipeline.packing.PackedSequence;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ArrowFileWriter;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Writes packed sequences as one Arrow IPC file (the random-access "file" format) to any stream: local
 * files in tests, Hadoop file system streams in the Spark job. Rows are buffered into record batches of
 * {@code rowsPerBatch}; the byte count and SHA-256 of exactly the written bytes come back from
 * {@link #finish()} for the manifest. The caller writes to a temporary name and renames after finish.
 */
public final class ShardWriter implements AutoCloseable {

    private final DatasetHeader header;
    private final int seqLen;
    private final int rowsPerBatch;
    private final int itemsPerBatch;
    private final BufferAllocator allocator;
    private final VectorSchemaRoot root;
    private final ArrowFileWriter writer;
    private final CountingOutputStream counter;
    private final MessageDigest digest;

    private final BigIntVector seqIds;
    private final FixedSizeListVector inputIds;
    private final FixedSizeListVector lossMask;
    private final ListVector docStarts;
    private final ListVector docLengths;
    private final BitVector continuesPrevious;
    private final IntVector padding;

    private int rowsInBatch;
    private long rows;
    private long tokens;
    private long paddingTokens;
    private ShardStats stats;
    private boolean closed;

    public ShardWriter(OutputStream out, DatasetHeader header, int rowsPerBatch) {
        Objects.requireNonNull(out, "out");
        this.header = Objects.requireNonNull(header, "header");
        if (rowsPerBatch <= 0) {
            throw new IllegalArgumentException("rowsPerBatch must be > 0, got " + rowsPerBatch);
        }
        this.seqLen = header.seqLen();
        this.rowsPerBatch = rowsPerBatch;
        if ((long) rowsPerBatch * seqLen > Integer.MAX_VALUE / Integer.BYTES) {
            throw new IllegalArgumentException("rowsPerBatch " + rowsPerBatch + " x seq_len " + seqLen
                    + " tokens is too large for one record batch; use fewer rows per batch");
        }
        this.itemsPerBatch = rowsPerBatch * seqLen;
        try {
            this.digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
        this.counter = new CountingOutputStream(new DigestOutputStream(out, digest));
        this.allocator = new RootAllocator();
        try {
            this.root = VectorSchemaRoot.create(DatasetSchema.schema(header), allocator);
            this.seqIds = (BigIntVector) root.getVector(DatasetSchema.SEQ_ID);
            this.inputIds = (FixedSizeListVector) root.getVector(DatasetSchema.INPUT_IDS);
            this.lossMask = (FixedSizeListVector) root.getVector(DatasetSchema.LOSS_MASK);
            this.docStarts = (ListVector) root.getVector(DatasetSchema.DOC_STARTS);
            this.docLengths = (ListVector) root.getVector(DatasetSchema.DOC_LENGTHS);
            this.continuesPrevious = (BitVector) root.getVector(DatasetSchema.CONTINUES_PREVIOUS);
            this.padding = (IntVector) root.getVector(DatasetSchema.PADDING);
            this.writer = new ArrowFileWriter(root, null, Channels.newChannel(counter));
            writer.start();
        } catch (IOException | RuntimeException e) {
            allocator.close();
            throw e instanceof IOException io ? new UncheckedIOException("cannot start Arrow shard", io) : (RuntimeException) e;
        }
        startBatch();
    }

    public void write(PackedSequence s) {
        if (closed) {
            throw new IllegalStateException("shard writer is closed");
        }
        if (s.seqLen() != seqLen) {
            throw new IllegalArgumentException("sequence " + s.seqId() + " has " + s.seqLen()
                    + " tokens but this dataset's seq_len is " + seqLen);
        }
        int r = rowsInBatch;
        seqIds.set(r, s.seqId());
        inputIds.setNotNull(r);
        lossMask.setNotNull(r);
        // Bulk copies into the data buffers (capacity reserved in startBatch, every item marked valid there):
        // per-element set() calls made writing several times slower.
        long base = (long) r * seqLen;
        ByteBuffer idBytes = ByteBuffer.allocate(seqLen * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        idBytes.asIntBuffer().put(s.inputIds());
        inputIds.getDataVector().getDataBuffer().setBytes(base * Integer.BYTES, idBytes);
        lossMask.getDataVector().getDataBuffer().setBytes(base, s.lossMask());
        writeList(docStarts, r, s.docStarts());
        writeList(docLengths, r, s.docLengths());
        continuesPrevious.set(r, s.continuesPrevious() ? 1 : 0);
        padding.set(r, s.padding());
        rowsInBatch++;
        rows++;
        tokens += seqLen - s.padding();
        paddingTokens += s.padding();
        if (rowsInBatch == rowsPerBatch) {
            flushBatch();
            startBatch();
        }
    }

    /** Writes the last batch and the file footer, closes the stream and returns what was written. */
    public ShardStats finish() {
        if (stats != null) {
            return stats;
        }
        if (closed) {
            throw new IllegalStateException("shard writer was closed without finish()");
        }
        try {
            if (rowsInBatch > 0) {
                flushBatch();
            }
            writer.end();
        } catch (IOException e) {
            close();
            throw new UncheckedIOException("cannot write Arrow shard", e);
        }
        close();
        stats = new ShardStats(rows, tokens, paddingTokens, counter.count, HexFormat.of().formatHex(digest.digest()));
        return stats;
    }

    /** Releases memory and closes the stream; without {@link #finish()} the written bytes are an incomplete shard. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            writer.close(); // closes the channel and with it the caller's stream
        } finally {
            root.close();
            allocator.close();
        }
    }

    private void startBatch() {
        rowsInBatch = 0;
        root.allocateNew();
        ensureCapacity(seqIds, rowsPerBatch);
        ensureCapacity(continuesPrevious, rowsPerBatch);
        ensureCapacity(padding, rowsPerBatch);
        ensureCapacity(inputIds, rowsPerBatch);
        ensureCapacity(lossMask, rowsPerBatch);
        ensureCapacity(inputIds.getDataVector(), itemsPerBatch);
        ensureCapacity(lossMask.getDataVector(), itemsPerBatch);
        markAllValid(inputIds.getDataVector());
        markAllValid(lossMask.getDataVector());
    }

    /** The token and mask columns are never null: set every validity bit once per batch. */
    private static void markAllValid(FieldVector items) {
        ArrowBuf validity = items.getValidityBuffer();
        validity.setOne(0, validity.capacity());
    }

    private static void ensureCapacity(org.apache.arrow.vector.ValueVector v, int capacity) {
        while (v.getValueCapacity() < capacity) {
            v.reAlloc();
        }
    }

    private void flushBatch() {
        int n = rowsInBatch;
        seqIds.setValueCount(n);
        inputIds.setValueCount(n);
        lossMask.setValueCount(n);
        docStarts.setValueCount(n);
        docLengths.setValueCount(n);
        continuesPrevious.setValueCount(n);
        padding.setValueCount(n);
        root.setRowCount(n);
        try {
            writer.writeBatch();
        } catch (IOException e) {
            close();
            throw new UncheckedIOException("cannot write Arrow record batch", e);
        }
    }

    private static void writeList(ListVector list, int row, int[] values) {
        int offset = list.startNewValue(row);
        IntVector items = (IntVector) list.getDataVector();
        for (int i = 0; i < values.length; i++) {
            items.setSafe(offset + i, values[i]);
        }
        list.endValue(row, values.length);
    }

    /** Counts the bytes that reach the digest (and the caller's stream). */
    private static final class CountingOutputStream extends FilterOutputStream {
        long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
