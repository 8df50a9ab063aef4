package ai.chunkwise.pipeline.packing;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Best-fit-decreasing bin packing of whole documents into rows, for corpora of short documents: the
 * least padding without splitting documents that fit a row. Documents longer than a row are first cut
 * into row-sized pieces (the last piece is the remainder); each piece is a segment of its own.
 *
 * <p>Deterministic: pieces are placed longest first, ties in arrival order; each goes into the open
 * bin with the least room that still fits it, ties to the oldest bin; bins are emitted in opening
 * order, their segments in placement order. All documents are buffered until {@link #finish()}.
 */
final class BestFitDecreasingPacker extends AbstractPacker {

    /** A slice of one framed document; {@code order} is its arrival rank, for deterministic tie-breaking. */
    private record Piece(int[] tokens, int from, int length, long order) {
    }

    private final List<Piece> pieces = new ArrayList<>();

    BestFitDecreasingPacker(PackingSpec spec, Consumer<PackedSequence> out) {
        super(spec, out);
    }

    @Override
    protected void place(int[] doc) {
        if (doc.length > seqLen) {
            countSplitDocument();
        }
        for (int from = 0; from < doc.length; from += seqLen) {
            pieces.add(new Piece(doc, from, Math.min(seqLen, doc.length - from), pieces.size()));
        }
    }

    @Override
    protected void flush() {
        pieces.sort(Comparator.comparingInt(Piece::length).reversed().thenComparingLong(Piece::order));
        List<List<Piece>> bins = new ArrayList<>();
        List<Integer> room = new ArrayList<>();
        // room left -> bins with exactly that room, oldest first: best fit is the first bin of the ceiling entry
        TreeMap<Integer, TreeSet<Integer>> binsByRoom = new TreeMap<>();
        for (Piece piece : pieces) {
            Map.Entry<Integer, TreeSet<Integer>> fit = binsByRoom.ceilingEntry(piece.length());
            int bin;
            if (fit == null) {
                bin = bins.size();
                bins.add(new ArrayList<>());
                room.add(seqLen);
            } else {
                bin = fit.getValue().pollFirst();
                if (fit.getValue().isEmpty()) {
                    binsByRoom.remove(fit.getKey());
                }
            }
            bins.get(bin).add(piece);
            int left = room.get(bin) - piece.length();
            room.set(bin, left);
            if (left > 0) {
                binsByRoom.computeIfAbsent(left, k -> new TreeSet<>()).add(bin);
            }
        }
        pieces.clear();
        RowBuilder row = new RowBuilder(seqLen, spec.tokenizer().padId());
        for (List<Piece> bin : bins) {
            for (Piece p : bin) {
                row.addSegment(p.tokens(), p.from(), p.length());
            }
            row.padTo(seqLen);
            emit(row, false);
        }
    }
}
