package ai.chunkwise.train.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {
    @TempDir
    Path dir;

    // ---- round trips -------------------------------------------------------------------------------------

    @Test
    void tensorsMadeOneAtATimeAreWrittenInLayoutOrder() {
        LinkedHashMap<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("b", new long[] {2, 3});
        shapes.put("a", new long[] {4});
        Map<String, INDArray> values = Map.of(
                "b", Nd4j.createFromArray(new float[][] {{1f, -2f, 0.5f}, {3f, 1.0078125f, -0.25f}}),
                "a", Nd4j.createFromArray(7f, 8f, -9f, 1e-3f));
        java.util.List<String> made = new java.util.ArrayList<>();
        Path file = dir.resolve("streamed.safetensors");
        SafeTensors.write(file, shapes, null, DataType.BFLOAT16, name -> {
            made.add(name);
            return values.get(name);
        });
        assertEquals(java.util.List.of("b", "a"), made);
        LinkedHashMap<String, INDArray> back = SafeTensors.read(file, DataType.FLOAT);
        assertEquals(java.util.List.of("b", "a"), new java.util.ArrayList<>(back.keySet()));
        assertEquals(values.get("b"), back.get("b"));   // all exactly representable in bfloat16
        // 1e-3 rounds to the nearest bfloat16: 0x3A83 (0.00099945068359375)
        assertEquals(0.00099945068359375f, back.get("a").getFloat(3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(
                dir.resolve("wrong.safetensors"), shapes, null, DataType.FLOAT, name -> Nd4j.zeros(DataType.FLOAT, 5)));
        assertTrue(e.getMessage().contains("\"b\"") && e.getMessage().contains("[2, 3]"), e.getMessage());
    }

    @Test
    void float32RoundTripKeepsValuesShapesAndIntegerTypes() throws IOException {
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        tensors.put("matrix", Nd4j.createFromArray(new float[][] {{1.5f, -2.25f, 3f}, {0.1f, 1e-30f, -7e20f}}));
        tensors.put("cube", Nd4j.linspace(DataType.FLOAT, -1, 0.125, 24).reshape(2, 3, 4));
        tensors.put("scalar", Nd4j.scalar(42.5f));
        tensors.put("empty", Nd4j.create(DataType.FLOAT, 0, 3));
        tensors.put("ids", Nd4j.createFromArray(new long[][] {{1, -2}, {Long.MAX_VALUE, Long.MIN_VALUE}}));
        tensors.put("ints", Nd4j.createFromArray(7, -8, Integer.MAX_VALUE));
        INDArray base = Nd4j.createFromArray(new float[][] {{1, 2, 3}, {4, 5, 6}});
        tensors.put("transposed_view", base.transpose());   // f-order view: must be written in logical c order
        tensors.put("column_view", base.getColumn(1));

        Path file = dir.resolve("rt.safetensors");
        SafeTensors.write(file, tensors, Map.of("note", "hello"), DataType.FLOAT);
        LinkedHashMap<String, INDArray> back = SafeTensors.read(file, DataType.FLOAT);

        assertEquals(tensors.keySet(), back.keySet());
        for (String name : tensors.keySet()) {
            assertArrayEquals(tensors.get(name).shape(), back.get(name).shape(), name);
            assertEquals(tensors.get(name), back.get(name), name);
        }
        assertEquals(DataType.LONG, back.get("ids").dataType());
        assertEquals(DataType.INT, back.get("ints").dataType());
        assertEquals(4f, back.get("transposed_view").getFloat(0, 1));
        assertArrayEquals(new float[] {2, 5}, back.get("column_view").toFloatVector());
        assertEquals(Map.of("note", "hello", "format", "pt"), SafeTensors.readMetadata(file));

        // on-disk layout, like the reference writer: header length a multiple of 8, space padding, aligned offsets
        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLength % 8);
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        JsonNode json = new ObjectMapper().readTree(header);
        assertEquals("pt", json.get("__metadata__").get("format").asText());
        assertEquals("I64", json.get("ids").get("dtype").asText());
        assertEquals("I32", json.get("ints").get("dtype").asText());
        assertEquals("F32", json.get("matrix").get("dtype").asText());
        json.fields().forEachRemaining(e -> {
            if (!e.getKey().equals("__metadata__")) {
                long begin = e.getValue().get("data_offsets").get(0).asLong();
                int width = switch (e.getValue().get("dtype").asText()) {
                    case "I64", "F64" -> 8;
                    default -> 4;
                };
                assertEquals(0, begin % width, e.getKey() + " is aligned to its element width");
            }
        });
    }

    @Test
    void float64RoundTripIsBitExact() {
        INDArray values = Nd4j.createFromArray(Math.PI, -Math.E, Double.MIN_VALUE, Double.MAX_VALUE, 1e-300, -0.0);
        Path file = dir.resolve("f64.safetensors");
        SafeTensors.write(file, Map.of("v", values), null, DataType.DOUBLE);
        INDArray back = SafeTensors.read(file, DataType.DOUBLE).get("v");
        for (int i = 0; i < values.length(); i++) {
            assertEquals(Double.doubleToRawLongBits(values.getDouble(i)), Double.doubleToRawLongBits(back.getDouble(i)));
        }
        // stored F64, read as float32: rounded like a (float) cast
        assertEquals((float) Math.PI, SafeTensors.read(file, DataType.FLOAT).get("v").getFloat(0));
    }

    @Test
    void bfloat16StorageRoundsToNearestEven() {
        float oneUlpHalf = 1f + 0x1p-8f;                // exactly between 1 and 1+2^-7: tie to even -> 1
        float oddTie = 1f + 0x1p-7f + 0x1p-8f;          // between 1+2^-7 (odd) and 1+2^-6 (even) -> 1+2^-6
        float aboveTie = 1f + 0x1p-8f + 0x1p-20f;       // just above the half way point -> 1+2^-7
        INDArray v = Nd4j.createFromArray(1f, -2.5f, 0.15625f, oneUlpHalf, oddTie, aboveTie, Float.POSITIVE_INFINITY);
        Path file = dir.resolve("bf16.safetensors");
        SafeTensors.write(file, Map.of("v", v), null, DataType.BFLOAT16);
        assertArrayEquals(new float[] {1f, -2.5f, 0.15625f, 1f, 1f + 0x1p-6f, 1f + 0x1p-7f, Float.POSITIVE_INFINITY},
                SafeTensors.read(file, DataType.FLOAT).get("v").toFloatVector());
        assertEquals(2L * 7 + headerLength(file), fileSize(file), "2 bytes per element");
    }

    @Test
    void readsHandMadeF16AndBf16Bytes() throws IOException {
        // F16: 1.0, -2.0, 0.333251953125 (0x3555), smallest subnormal 2^-24, +inf, NaN
        short[] f16 = {0x3C00, (short) 0xC000, 0x3555, 0x0001, 0x7C00, 0x7E00};
        // BF16: 1.0, -5.0, 0.15625, -inf
        short[] bf16 = {0x3F80, (short) 0xC0A0, 0x3E20, (short) 0xFF80};
        ByteBuffer data = ByteBuffer.allocate(f16.length * 2 + bf16.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short s : f16) {
            data.putShort(s);
        }
        for (short s : bf16) {
            data.putShort(s);
        }
        Path file = dir.resolve("half.safetensors");
        writeRaw(file, "{\"h\":{\"dtype\":\"F16\",\"shape\":[6],\"data_offsets\":[0,12]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[12,20]}}", data.array());
        for (DataType dt : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            LinkedHashMap<String, INDArray> t = SafeTensors.read(file, dt);
            INDArray h = t.get("h");
            assertEquals(dt, h.dataType());
            assertEquals(1.0, h.getDouble(0), 0.0);
            assertEquals(-2.0, h.getDouble(1), 0.0);
            assertEquals(0.333251953125, h.getDouble(2), 0.0);
            assertEquals(Math.pow(2, -24), h.getDouble(3), 0.0);
            assertEquals(Double.POSITIVE_INFINITY, h.getDouble(4));
            assertTrue(Double.isNaN(h.getDouble(5)));
            assertEquals(Nd4j.createFromArray(new double[][] {{1.0, -5.0}, {0.15625, Double.NEGATIVE_INFINITY}}).castTo(dt),
                    t.get("b"));
        }
    }

    // ---- malformed files ---------------------------------------------------------------------------------

    @Test
    void rejectsHeaderLongerThanFile() throws IOException {
        Path file = dir.resolve("short.safetensors");
        ByteBuffer b = ByteBuffer.allocate(18).order(ByteOrder.LITTLE_ENDIAN).putLong(1000);
        Files.write(file, b.array());
        assertMessage(file, null, "declares a header of 1000 bytes");
        Files.write(file, new byte[] {1, 2, 3});
        assertMessage(file, null, "shorter than the 8-byte header length");
    }

    @Test
    void rejectsBadJson() throws IOException {
        Path file = dir.resolve("json.safetensors");
        writeRaw(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]", new byte[4]);
        assertMessage(file, null, "not valid JSON");
        writeRaw(file, "[1,2]", new byte[0]);
        assertMessage(file, null, "not a JSON object");
        writeRaw(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]);
        assertMessage(file, null, "Duplicate field 'a'");
    }

    @Test
    void rejectsOffsetsOutsideTheDataSection() throws IOException {
        Path file = dir.resolve("outside.safetensors");
        writeRaw(file, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[8]);
        assertMessage(file, "w", "outside the data section of 8 bytes");
    }

    @Test
    void rejectsOverlappingTensors() throws IOException {
        Path file = dir.resolve("overlap.safetensors");
        writeRaw(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]);
        assertMessage(file, "b", "overlapping tensor \"a\"");
    }

    @Test
    void rejectsByteCountThatDoesNotMatchTheShape() throws IOException {
        Path file = dir.resolve("count.safetensors");
        writeRaw(file, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", new byte[20]);
        assertMessage(file, "w", "occupies 20 bytes but dtype F32 x shape [2, 3] needs 24");
    }

    @Test
    void rejectsGapsTrailingBytesUnknownTypesAndNegativeShapes() throws IOException {
        Path file = dir.resolve("misc.safetensors");
        writeRaw(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]);
        assertMessage(file, "a", "a gap of unaccounted bytes");
        writeRaw(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[8]);
        assertMessage(file, null, "4 bytes after the last tensor");
        writeRaw(file, "{\"a\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[0,4]}}", new byte[4]);
        assertMessage(file, "a", "dtype I8, which is not supported");
        writeRaw(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4]);
        assertMessage(file, "a", "not a non-negative integer");
        writeRaw(file, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4]);
        assertMessage(file, "a", "no \"data_offsets\" array");
    }

    @Test
    void refusesUnsupportedStorageTypesAndLeavesNoFileBehind() {
        Path file = dir.resolve("never.safetensors");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.write(file, Map.of("b", Nd4j.createFromArray(true, false)), null, DataType.FLOAT));
        assertTrue(e.getMessage().contains("\"b\" has data type BOOL"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.write(file, Map.of("x", Nd4j.scalar(1f)), null, DataType.INT));
        assertTrue(Files.notExists(file));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(file, DataType.HALF));
    }

    @Test
    void overwritesAtomically() throws IOException {
        Path file = dir.resolve("w.safetensors");
        SafeTensors.write(file, Map.of("x", Nd4j.scalar(1f)), null, DataType.FLOAT);
        SafeTensors.write(file, Map.of("y", Nd4j.scalar(2f)), null, DataType.FLOAT);
        assertEquals(2f, SafeTensors.read(file, DataType.FLOAT).get("y").getFloat(0));
        try (var listing = Files.list(dir)) {
            assertEquals(1, listing.count(), "no temporary file is left behind");
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    private static void assertMessage(Path file, String tensor, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(file, DataType.FLOAT));
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        if (tensor != null) {
            assertTrue(e.getMessage().contains("\"" + tensor + "\""), "names the tensor: " + e.getMessage());
        }
        assertTrue(e.getMessage().contains(fragment), "says what is wrong (" + fragment + "): " + e.getMessage());
    }

    /** A safetensors file assembled byte by byte: 8-byte little-endian header length, header, data. */
    private static void writeRaw(Path file, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.write(h);
        out.write(data);
        Files.write(file, out.toByteArray());
    }

    private static long headerLength(Path file) {
        try {
            return 8 + ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static long fileSize(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }
}
