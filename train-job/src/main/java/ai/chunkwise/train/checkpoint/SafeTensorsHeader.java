package ai.chunkwise.train.checkpoint;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed and validated header of a safetensors file: an 8-byte little-endian length N, N bytes of
 * JSON, then the data section. Validation follows the reference implementation (huggingface/safetensors):
 * tensors must tile the data section exactly, in offset order, with no gap, overlap or trailing byte.
 */
final class SafeTensorsHeader {
    /** Element types only quantized checkpoints use for weights (bitsandbytes U8, FP8, int8 / int4 packing). */
    private static final java.util.Set<String> QUANTIZED_DTYPES = java.util.Set.of("U8", "I8", "F8_E4M3", "F8_E5M2",
            "F8_E8M0", "F4", "I4", "U4");

    /** The reference implementation refuses larger headers too (a corrupt length would allocate gigabytes). */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";

    /** One tensor's entry; {@code begin}/{@code end} are relative to the data section. */
    record Entry(String name, SafeTensorsDType dtype, long[] shape, long begin, long end) {
        long elementCount() {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    final Path file;
    final long dataStart;
    final LinkedHashMap<String, Entry> entries;
    final LinkedHashMap<String, String> metadata;

    private SafeTensorsHeader(Path file, long dataStart, LinkedHashMap<String, Entry> entries,
                              LinkedHashMap<String, String> metadata) {
        this.file = file;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    static SafeTensorsHeader read(Path file, FileChannel channel) throws IOException {
        long fileSize = channel.size();
        if (fileSize < 8) {
            throw bad(file, "is " + fileSize + " bytes long, shorter than the 8-byte header length");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lengthBytes, 0);
        long headerLength = lengthBytes.flip().getLong();
        if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES) {
            throw bad(file, "declares a header of " + Long.toUnsignedString(headerLength)
                    + " bytes (allowed 1.." + MAX_HEADER_BYTES + "): not a safetensors file or corrupt");
        }
        if (8 + headerLength > fileSize) {
            throw bad(file, "declares a header of " + headerLength + " bytes but the file has only "
                    + (fileSize - 8) + " bytes after the length field: truncated or not a safetensors file");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        readFully(channel, headerBytes, 8);
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(headerBytes.flip()).toString();
        } catch (CharacterCodingException e) {
            throw bad(file, "has a header that is not valid UTF-8");
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw bad(file, "has a header that is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw bad(file, "has a header that is not a JSON object");
        }
        long dataStart = 8 + headerLength;
        long dataSize = fileSize - dataStart;

        LinkedHashMap<String, String> metadata = new LinkedHashMap<>();
        LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals(METADATA_KEY)) {
                readMetadata(file, field.getValue(), metadata);
            } else {
                Entry entry = parseEntry(file, field.getKey(), field.getValue());
                entries.put(entry.name(), entry);
            }
        }
        checkTiling(file, entries, dataSize);
        return new SafeTensorsHeader(file, dataStart, entries, metadata);
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> into) {
        if (!node.isObject()) {
            throw bad(file, "has a \"__metadata__\" that is not a JSON object of strings");
        }
        node.fields().forEachRemaining(kv -> {
            if (!kv.getValue().isTextual()) {
                throw bad(file, "has metadata key \"" + kv.getKey() + "\" whose value is not a string");
            }
            into.put(kv.getKey(), kv.getValue().asText());
        });
    }

    private static Entry parseEntry(Path file, String name, JsonNode node) {
        if (name.isEmpty()) {
            throw bad(file, "has a tensor with an empty name");
        }
        if (!node.isObject()) {
            throw badTensor(file, name, "entry is not a JSON object");
        }
        for (Iterator<String> keys = node.fieldNames(); keys.hasNext(); ) {
            String key = keys.next();
            if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) {
                throw badTensor(file, name, "entry has unknown field \"" + key + "\"");
            }
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw badTensor(file, name, "has no \"dtype\" string");
        }
        SafeTensorsDType dtype = SafeTensorsDType.parse(dtypeNode.asText()).orElseThrow(() -> badTensor(file, name,
                "has dtype " + dtypeNode.asText() + ", which is not supported (supported: F32, F64, BF16, F16, I64, I32)"
                + (QUANTIZED_DTYPES.contains(dtypeNode.asText()) ? ": the checkpoint looks quantized (8-bit floats or"
                + " packed 4/8-bit integers, as bitsandbytes, GPTQ, AWQ and FP8 checkpoints store weights); Chunkwise"
                + " trains bf16/float16/float32 weights, so dequantize to bf16 first or use the unquantized checkpoint"
                : "")));

        long[] shape = nonNegativeLongs(file, name, node.get("shape"), "shape", -1);
        long[] offsets = nonNegativeLongs(file, name, node.get("data_offsets"), "data_offsets", 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw badTensor(file, name, "has data_offsets [" + begin + ", " + end + "] with begin after end");
        }
        Entry entry = new Entry(name, dtype, shape, begin, end);
        long expectedBytes;
        try {
            expectedBytes = Math.multiplyExact(entry.elementCount(), dtype.bytes);
        } catch (ArithmeticException e) {
            throw badTensor(file, name, "has a shape whose byte size overflows 64 bits");
        }
        if (end - begin != expectedBytes) {
            throw badTensor(file, name, "occupies " + (end - begin) + " bytes but dtype " + dtype + " x shape "
                    + java.util.Arrays.toString(shape) + " needs " + expectedBytes);
        }
        return entry;
    }

    private static long[] nonNegativeLongs(Path file, String name, JsonNode node, String key, int requiredLength) {
        if (node == null || !node.isArray()) {
            throw badTensor(file, name, "has no \"" + key + "\" array");
        }
        if (requiredLength >= 0 && node.size() != requiredLength) {
            throw badTensor(file, name, "has \"" + key + "\" of length " + node.size() + ", expected " + requiredLength);
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
                throw badTensor(file, name, "has \"" + key + "\" element " + v + " that is not a non-negative integer");
            }
            values[i] = v.asLong();
        }
        return values;
    }

    /** Tensors sorted by offset must cover [0, dataSize) exactly: anything else is corruption. */
    private static void checkTiling(Path file, Map<String, Entry> entries, long dataSize) {
        List<Entry> byOffset = new ArrayList<>(entries.values());
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expectedBegin = 0;
        Entry previous = null;
        for (Entry e : byOffset) {
            if (e.end() > dataSize) {
                throw badTensor(file, e.name(), "has data_offsets [" + e.begin() + ", " + e.end()
                        + "] outside the data section of " + dataSize + " bytes (file truncated?)");
            }
            if (e.begin() < expectedBegin) {
                throw badTensor(file, e.name(), "has data_offsets [" + e.begin() + ", " + e.end()
                        + "] overlapping tensor \"" + previous.name() + "\" [" + previous.begin() + ", " + previous.end() + "]");
            }
            if (e.begin() > expectedBegin) {
                throw badTensor(file, e.name(), "starts at data offset " + e.begin() + " but the previous tensor ends at "
                        + expectedBegin + ": a gap of unaccounted bytes (corrupt header)");
            }
            expectedBegin = e.end();
            previous = e;
        }
        if (expectedBegin != dataSize) {
            throw bad(file, "has " + (dataSize - expectedBegin) + " bytes after the last tensor that no tensor owns"
                    + " (data section " + dataSize + " bytes, tensors end at " + expectedBegin + ")");
        }
    }

    static void readFully(FileChannel channel, ByteBuffer into, long position) throws IOException {
        long pos = position;
        while (into.hasRemaining()) {
            int n = channel.read(into, pos);
            if (n < 0) {
                throw new IOException("unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }

    static IllegalArgumentException bad(Path file, String what) {
        return new IllegalArgumentException("safetensors file " + file + " " + what);
    }

    static IllegalArgumentException badTensor(Path file, String tensor, String what) {
        return new IllegalArgumentException("safetensors file " + file + ": tensor \"" + tensor + "\" " + what);
    }
}
