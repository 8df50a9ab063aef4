package ai.chunkwise.pipeline.packing;

import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every expected row below is laid out by hand from the policy's definition (pad id 0, BOS 1, EOS 2).
 */
class PackingTest {

    static final TokenizerInfo TOK = new TokenizerInfo("test", 100, 1, 2, 0, "hash");

    private static List<PackedSequence> pack(PackingSpec spec, List<PackingStats> statsOut, int[]... docs) {
        List<PackedSequence> rows = new ArrayList<>();
        SequencePacker packer = SequencePacker.create(spec, rows::add);
        for (int[] d : docs) {
            packer.accept(d);
        }
        packer.finish();
        statsOut.add(packer.stats());
        return rows;
    }

    private static void assertRow(PackedSequence row, long seqId, int[] ids, int[] mask, int[] starts, int[] lengths,
                                  boolean continues, int padding) {
        String where = "row " + seqId + ": " + row;
        assertEquals(seqId, row.seqId(), where);
        assertArrayEquals(ids, row.inputIds(), where);
        byte[] maskBytes = new byte[mask.length];
        for (int i = 0; i < mask.length; i++) {
            maskBytes[i] = (byte) mask[i];
        }
        assertArrayEquals(maskBytes, row.lossMask(), where);
        assertArrayEquals(starts, row.docStarts(), where);
        assertArrayEquals(lengths, row.docLengths(), where);
        assertEquals(continues, row.continuesPrevious(), where);
        assertEquals(padding, row.padding(), where);
    }

    private static int[] a(int... v) {
        return v;
    }

    @Test
    void concatSplitsAcrossRowsAndPadsOnlyTheLastRow() {
        PackingSpec spec = new PackingSpec(2, 2, PackingPolicy.CONCAT, true, true, TOK); // seqLen 4
        List<PackingStats> stats = new ArrayList<>();
        List<PackedSequence> rows = pack(spec, stats,
                a(10, 11), a(20), a(30, 31, 32, 33, 34, 35, 36), a(40));
        // stream: [1 10 11 2] [1 20 2 | 1] [30 31 32 33] [34 35 36 2] [1 40 2 pad]
        assertEquals(5, rows.size());
        assertRow(rows.get(0), 0, a(1, 10, 11, 2), a(0, 1, 1, 1), a(0), a(4), false, 0);
        assertRow(rows.get(1), 1, a(1, 20, 2, 1), a(0, 1, 1, 0), a(0, 3), a(3, 1), false, 0);
        assertRow(rows.get(2), 2, a(30, 31, 32, 33), a(0, 1, 1, 1), a(0), a(4), true, 0);
        assertRow(rows.get(3), 3, a(34, 35, 36, 2), a(0, 1, 1, 1), a(0), a(4), true, 0);
        assertRow(rows.get(4), 4, a(1, 40, 2, 0), a(0, 1, 1, 0), a(0), a(3), false, 1);
        assertEquals(new PackingStats(4, 19, 1, 5, 1), stats.get(0));
    }

    @Test
    void concatWithoutSpecialsPutsDocumentsBackToBack() {
        PackingSpec spec = new PackingSpec(3, 1, PackingPolicy.CONCAT, false, false, TOK); // seqLen 3
        List<PackingStats> stats = new ArrayList<>();
        List<PackedSequence> rows = pack(spec, stats, a(5), a(6, 7, 8, 9), a(10));
        // stream: [5 6 7] [8 9 10]
        assertEquals(2, rows.size());
        assertRow(rows.get(0), 0, a(5, 6, 7), a(0, 0, 1), a(0, 1), a(1, 2), false, 0);
        assertRow(rows.get(1), 1, a(8, 9, 10), a(0, 1, 0), a(0, 2), a(2, 1), true, 0);
        assertEquals(new PackingStats(3, 6, 0, 2, 1), stats.get(0));
    }

    @Test
    void concatDocumentLongerThanSeveralRowsContinuesInEachRow() {
        PackingSpec spec = new PackingSpec(2, 1, PackingPolicy.CONCAT, false, true, TOK); // seqLen 2
        List<PackingStats> stats = new ArrayList<>();
        List<PackedSequence> rows = pack(spec, stats, a(3, 4, 5, 6, 7, 8, 9)); // 7 tokens + EOS = 8 = 4 rows
        assertEquals(4, rows.size());
        assertRow(rows.get(0), 0, a(3, 4), a(0, 1), a(0), a(2), false, 0);
        assertRow(rows.get(1), 1, a(5, 6), a(0, 1), a(0), a(2), true, 0);
        assertRow(rows.get(2), 2, a(7, 8), a(0, 1), a(0), a(2), true, 0);
        assertRow(rows.get(3), 3, a(9, 2), a(0, 1), a(0), a(2), true, 0);
        assertEquals(new PackingStats(1, 8, 0, 4, 1), stats.get(0));
    }

    @Test
    void chunkAlignedStartsEveryDocumentOnAChunkBoundary() {
        PackingSpec spec = new PackingSpec(3, 2, PackingPolicy.CHUNK_ALIGNED, false, true, TOK); // seqLen 6
        List<PackingStats> stats = new ArrayList<>();
        List<PackedSequence> rows = pack(spec, stats,
                a(10), a(20, 21, 22, 23), a(30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41), a(50, 51));
        // global positions: A at 0 (2 tokens), B at 3 (5), C at 9 (13), D at 24 (3)
        assertEquals(5, rows.size());
        assertRow(rows.get(0), 0, a(10, 2, 0, 20, 21, 22), a(0, 1, 0, 0, 1, 1), a(0, 3), a(2, 3), false, 1);
        assertRow(rows.get(1), 1, a(23, 2, 0, 30, 31, 32), a(0, 1, 0, 0, 1, 1), a(0, 3), a(2, 3), true, 1);
        assertRow(rows.get(2), 2, a(33, 34, 35, 36, 37, 38), a(0, 1, 1, 1, 1, 1), a(0), a(6), true, 0);
        assertRow(rows.get(3), 3, a(39, 40, 41, 2, 0, 0), a(0, 1, 1, 1, 0, 0), a(0), a(4), true, 2);
        assertRow(rows.get(4), 4, a(50, 51, 2, 0, 0, 0), a(0, 1, 1, 0, 0, 0), a(0), a(3), false, 3);
        assertEquals(new PackingStats(4, 23, 7, 5, 2), stats.get(0));
    }

    @Test
    void chunkAlignedDocumentEndingOnABoundaryNeedsNoPadding() {
        PackingSpec spec = new PackingSpec(2, 2, PackingPolicy.CHUNK_ALIGNED, true, false, TOK); // seqLen 4
        List<PackingStats> stats = new ArrayList<>();
        List<PackedSequence> rows = pack(spec, stats, a(7), a(8, 9, 10), a(11));
        // A = [1 7] at 0, B = [1 8 9 10] at 2 (ends on the boundary at 6), C = [1 11] at 6: no padding anywhere
        assertEquals(2, rows.size());
        assertRow(rows.get(0), 0, a(1, 7, 1, 8), a(0, 1, 0, 1), a(0, 2), a(2, 2), false, 0);
        assertRow(rows.get(1), 1, a(9, 10, 1, 11), a(0, 1, 0, 1), a(0, 2), a(2, 2), true, 0);
        assertEquals(new PackingStats(3, 8, 0, 2, 1), stats.get(0));
    }

    @Test
    void bfdPlacesEachPieceInTheTightestBinThatFits() {
        // (7, 4, 4, 1) in rows of 10 is where best fit differs from first fit: the 1 goes into the bin with
        // room 2 (4+4), not into the older bin with room 3 (7).
        PackingSpec spec = new PackingSpec(5, 2, PackingPolicy.BFD, false, false, TOK); // seqLen 10
        List<PackingStats> stats = new ArrayList<>();
        int[] d0 = a(10, 11, 12, 13);
        int[] d1 = a(20, 21, 22, 23, 24, 25, 26);
        int[] d2 = a(30);
        int[] d3 = a(40, 41, 42, 43);
        List<PackedSequence> rows = pack(spec, stats, d0, d1, d2, d3);
        // sorted: d1(7), d0(4), d3(4) (tie: arrival order), d2(1)
        assertEquals(2, rows.size());
        assertRow(rows.get(0), 0, a(20, 21, 22, 23, 24, 25, 26, 0, 0, 0), a(0, 1, 1, 1, 1, 1, 1, 0, 0, 0),
                a(0), a(7), false, 3);
        assertRow(rows.get(1), 1, a(10, 11, 12, 13, 40, 41, 42, 43, 30, 0), a(0, 1, 1, 1, 0, 1, 1, 1, 0, 0),
                a(0, 4, 8), a(4, 4, 1), false, 1);
        assertEquals(new PackingStats(4, 16, 4, 2, 0), stats.get(0));
    }

    @Test
    void bfdBreaksRoomTiesTowardsTheOlderBin() {
        PackingSpec spec = new PackingSpec(4, 2, PackingPolicy.BFD, false, false, TOK); // seqLen 8
        List<PackingStats> stats = new ArrayList<>();
        List<PackedSequence> rows = pack(spec, stats, a(10, 11, 12, 13, 14), a(20, 21, 22, 23, 24), a(30, 31, 32));
        // bins: [d0] room 3, [d1] room 3; d2 (3) -> older bin 0
        assertEquals(2, rows.size());
        assertRow(rows.get(0), 0, a(10, 11, 12, 13, 14, 30, 31, 32), a(0, 1, 1, 1, 1, 0, 1, 1), a(0, 5), a(5, 3), false, 0);
        assertRow(rows.get(1), 1, a(20, 21, 22, 23, 24, 0, 0, 0), a(0, 1, 1, 1, 1, 0, 0, 0), a(0), a(5), false, 3);
    }

    @Test
    void bfdSplitsLongDocumentsIntoRowSizedPiecesFirst() {
        PackingSpec spec = new PackingSpec(5, 2, PackingPolicy.BFD, true, true, TOK); // seqLen 10
        List<PackingStats> stats = new ArrayList<>();
        int[] longDoc = new int[21]; // framed: 1, 50..70, 2 = 23 tokens -> pieces 10, 10, 3
        for (int i = 0; i < longDoc.length; i++) {
            longDoc[i] = 50 + i;
        }
        List<PackedSequence> rows = pack(spec, stats, longDoc, a(80, 81, 82, 83)); // framed 6 tokens
        // sorted: piece0 (10), piece1 (10), short doc (6), piece2 (3) -> bins [p0] [p1] [short, p2]
        assertEquals(3, rows.size());
        assertRow(rows.get(0), 0, a(1, 50, 51, 52, 53, 54, 55, 56, 57, 58), a(0, 1, 1, 1, 1, 1, 1, 1, 1, 1),
                a(0), a(10), false, 0);
        assertRow(rows.get(1), 1, a(59, 60, 61, 62, 63, 64, 65, 66, 67, 68), a(0, 1, 1, 1, 1, 1, 1, 1, 1, 1),
                a(0), a(10), false, 0);
        assertRow(rows.get(2), 2, a(1, 80, 81, 82, 83, 2, 69, 70, 2, 0), a(0, 1, 1, 1, 1, 1, 0, 1, 1, 0),
                a(0, 6), a(6, 3), false, 1);
        assertEquals(new PackingStats(2, 29, 1, 3, 1), stats.get(0));
    }

    @Test
    void bfdEmitsNothingBeforeFinish() {
        PackingSpec spec = new PackingSpec(2, 2, PackingPolicy.BFD, false, false, TOK);
        List<PackedSequence> rows = new ArrayList<>();
        SequencePacker packer = SequencePacker.create(spec, rows::add);
        packer.accept(a(3, 4, 5, 6));
        packer.accept(a(7));
        assertTrue(rows.isEmpty());
        packer.finish();
        assertEquals(2, rows.size());
        packer.finish(); // idempotent
        assertEquals(2, rows.size());
        assertThrows(IllegalStateException.class, () -> packer.accept(a(8)));
    }

    @Test
    void noDocumentsNoRows() {
        for (PackingPolicy p : PackingPolicy.values()) {
            List<PackingStats> stats = new ArrayList<>();
            assertTrue(pack(new PackingSpec(4, 2, p, true, true, TOK), stats).isEmpty(), p.toString());
            assertEquals(new PackingStats(0, 0, 0, 0, 0), stats.get(0));
        }
    }

    @Test
    void tokensPlusPaddingFillEveryRowForEveryPolicy() {
        int[][] docs = {a(3, 4, 5), a(6), a(7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17), a(18, 19)};
        for (PackingPolicy p : PackingPolicy.values()) {
            List<PackingStats> stats = new ArrayList<>();
            List<PackedSequence> rows = pack(new PackingSpec(3, 2, p, true, true, TOK), stats, docs);
            PackingStats s = stats.get(0);
            assertEquals(rows.size(), s.sequences(), p.toString());
            assertEquals(3 + 1 + 11 + 2 + 4 * 2, s.tokens(), p.toString());
            assertEquals(rows.size() * 6L, s.tokens() + s.padding(), p.toString());
            long tokenSum = 0;
            for (PackedSequence r : rows) {
                for (int len : r.docLengths()) {
                    tokenSum += len;
                }
                for (int j = 0; j < r.seqLen(); j++) {
                    boolean inSegment = false;
                    for (int k = 0; k < r.docStarts().length; k++) {
                        inSegment |= j >= r.docStarts()[k] && j < r.docStarts()[k] + r.docLengths()[k];
                    }
                    if (!inSegment) {
                        assertEquals(0, r.inputIds()[j], p + " padding position " + j + " of " + r);
                        assertEquals(0, r.lossMask()[j], p + " padding position " + j + " of " + r);
                    }
                }
            }
            assertEquals(s.tokens(), tokenSum, p.toString());
        }
    }

    @Test
    void rejectsIdsOutsideTheVocabularyNamingTheDocument() {
        SequencePacker packer = SequencePacker.create(new PackingSpec(4, 1, PackingPolicy.CONCAT, false, false, TOK), r -> { });
        packer.accept(a(5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> packer.accept(a(5, 100)));
        assertTrue(e.getMessage().contains("document 1") && e.getMessage().contains("100"), e.getMessage());
    }

    @Test
    void rejectsEmptyDocumentWithoutSpecials() {
        SequencePacker packer = SequencePacker.create(new PackingSpec(4, 1, PackingPolicy.CONCAT, false, false, TOK), r -> { });
        assertThrows(IllegalArgumentException.class, () -> packer.accept(new int[0]));
    }

    @Test
    void specValidatesGeometryAndSpecialTokens() {
        TokenizerInfo noSpecials = new TokenizerInfo("plain", 10, -1, -1, 0, "h");
        assertThrows(IllegalArgumentException.class, () -> new PackingSpec(0, 1, PackingPolicy.CONCAT, false, false, TOK));
        assertThrows(IllegalArgumentException.class, () -> new PackingSpec(4, 0, PackingPolicy.CONCAT, false, false, TOK));
        assertThrows(IllegalArgumentException.class, () -> new PackingSpec(1 << 16, 1 << 16, PackingPolicy.CONCAT, false, false, TOK));
        IllegalArgumentException bos = assertThrows(IllegalArgumentException.class,
                () -> new PackingSpec(4, 1, PackingPolicy.CONCAT, true, false, noSpecials));
        assertTrue(bos.getMessage().contains("BOS"), bos.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new PackingSpec(4, 1, PackingPolicy.CONCAT, false, true, noSpecials));
        assertThrows(IllegalArgumentException.class, () -> new PackingSpec(4, 1, PackingPolicy.CONCAT, false, false,
                new TokenizerInfo("nopad", 10, -1, -1, -1, "h")));
        assertEquals(12, new PackingSpec(4, 3, PackingPolicy.BFD, false, false, noSpecials).seqLen());
    }

    @Test
    void policyNamesParseAndUnknownNamesListTheValidOnes() {
        assertEquals(PackingPolicy.CONCAT, PackingPolicy.parse("concat"));
        assertEquals(PackingPolicy.BFD, PackingPolicy.parse("bfd"));
        assertEquals(PackingPolicy.CHUNK_ALIGNED, PackingPolicy.parse("chunk-aligned"));
        assertEquals("chunk-aligned", PackingPolicy.CHUNK_ALIGNED.configName());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PackingPolicy.parse("chunk_aligned"));
        assertTrue(e.getMessage().contains("chunk_aligned") && e.getMessage().contains("concat, bfd, chunk-aligned"), e.getMessage());
    }

    @Test
    void packedSequenceRejectsInconsistentStructure() {
        assertThrows(IllegalArgumentException.class, () -> new PackedSequence(0, new int[4], new byte[3], a(0), a(4), false, 0));
        assertThrows(IllegalArgumentException.class, () -> new PackedSequence(0, new int[4], new byte[4], a(0, 1), a(2, 2), false, 0));
        assertThrows(IllegalArgumentException.class, () -> new PackedSequence(0, new int[4], new byte[4], a(0), a(5), false, 0));
        assertThrows(IllegalArgumentException.class, () -> new PackedSequence(0, new int[4], new byte[4], a(0), a(3), false, 0));
        assertFalse(new PackedSequence(0, new int[4], new byte[4], a(1), a(3), false, 1).continuesPrevious());
    }
}
