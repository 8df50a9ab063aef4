package ai.chunkwise.pipeline.packing;

import java.util.function.Consumer;

/**
 * Concat and chunk-aligned packing: documents are written in arrival order, each starting at the next
 * multiple of {@code alignment} (1 = back to back; chunkSize = on a chunk boundary), and flow on into
 * the next row when they do not fit. A row is emitted as soon as it is full, so memory stays one row.
 */
final class StreamingPacker extends AbstractPacker {

    private final int alignment;
    private final RowBuilder row;

    StreamingPacker(PackingSpec spec, Consumer<PackedSequence> out, int alignment) {
        super(spec, out);
        this.alignment = alignment;
        this.row = new RowBuilder(seqLen, spec.tokenizer().padId());
    }

    @Override
    protected void place(int[] doc) {
        int misalignment = row.position() % alignment;
        if (misalignment != 0) {
            row.padTo(row.position() + alignment - misalignment);
        }
        if (row.remaining() == 0) { // seqLen is a multiple of the alignment, so padding can fill the row exactly
            emit(row, false);
        }
        int written = 0;
        boolean split = false;
        while (written < doc.length) {
            int n = Math.min(doc.length - written, row.remaining());
            row.addSegment(doc, written, n);
            written += n;
            if (row.remaining() == 0) {
                boolean continues = written < doc.length;
                emit(row, continues);
                split |= continues;
            }
        }
        if (split) {
            countSplitDocument();
        }
    }

    @Override
    protected void flush() {
        if (!row.isEmpty()) {
            row.padTo(seqLen);
            emit(row, false);
        }
    }
}
