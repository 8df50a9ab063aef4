package ai.chunkwise.train.loop;

import ai.chunkwise.train.engine.KvCacheDtype;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** train.method.kv-cache-dtype: its default, its values, and the runs that refuse bfloat16, naming the key. */
class KvCacheDtypeSettingsTest {
    private static TrainSettings load(String... keyValues) {
        Map<String, String> o = new HashMap<>(Map.of("train.data.dataset", "d", "train.model.init-config", "x.json"));
        for (int i = 0; i < keyValues.length; i += 2) {
            o.put(keyValues[i], keyValues[i + 1]);
        }
        return TrainSettings.load(null, o);
    }

    @Test
    void defaultsToTheComputeDtype() {
        TrainSettings s = load();
        assertEquals(KvCacheDtype.COMPUTE, s.method().kvCache());
        assertEquals(KvCacheDtype.COMPUTE, s.method().engineSpec(64).kvCache());
    }

    @Test
    void bfloat16IsCarriedIntoTheEngineSpec() {
        TrainSettings seco = load("train.method.kv-cache-dtype", "bfloat16");
        assertEquals(KvCacheDtype.BFLOAT16, seco.method().kvCache());
        assertEquals(KvCacheDtype.BFLOAT16, seco.method().engineSpec(64).kvCache());
        TrainSettings spaco = load("train.method.name", "spaco", "train.method.kv-cache-dtype", "bfloat16");
        assertEquals(KvCacheDtype.BFLOAT16, spaco.method().engineSpec(64).kvCache());
        assertEquals(KvCacheDtype.COMPUTE, load("train.method.kv-cache-dtype", "compute").method().kvCache());
    }

    @Test
    void aBadValueFailsNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> load("train.method.kv-cache-dtype", "float16"));
        assertTrue(e.getMessage().contains("train.method.kv-cache-dtype") && e.getMessage().contains("'float16'")
                && e.getMessage().contains("bfloat16"), e.getMessage());
    }

    @Test
    void fullAndFloat64RefuseBfloat16NamingTheKey() {
        IllegalArgumentException full = assertThrows(IllegalArgumentException.class,
                () -> load("train.method.name", "full", "train.method.kv-cache-dtype", "bfloat16"));
        assertTrue(full.getMessage().contains("train.method.kv-cache-dtype") && full.getMessage().contains("full"),
                full.getMessage());
        IllegalArgumentException float64 = assertThrows(IllegalArgumentException.class,
                () -> load("train.model.dtype", "float64", "train.method.kv-cache-dtype", "bfloat16"));
        assertTrue(float64.getMessage().contains("train.method.kv-cache-dtype")
                && float64.getMessage().contains("float64"), float64.getMessage());
        assertEquals(KvCacheDtype.COMPUTE, load("train.method.name", "full").method().kvCache());
        assertEquals(KvCacheDtype.COMPUTE, load("train.model.dtype", "float64").method().kvCache());
    }
}
