//! Which hash partition PostgreSQL puts a subject in, computed here.
//!
//! A generic plan on a partitioned table (PostgreSQL 15) locks every partition and every
//! partition's indexes before it prunes them, on each execution; a statement that names the one
//! partition locks one table. So a per-person read names the partition this module computes,
//! exactly as the server routes a `bigint` key: `hashint8extended` (Bob Jenkins' lookup3 hash
//! of the 64-bit value folded to 32 bits) with the partition seed, combined as for a one-column
//! key, modulo [`PG_PARTITIONS`]. A store test checks it against where the server puts rows.

use crate::schema::PG_PARTITIONS;

/// PostgreSQL's seed for hash partitioning.
const SEED: u64 = 0x7A5B_2236_7996_DCFD;

/// The partition (`_p0` … `_p7`) of every fact table that holds `subject_id`'s rows.
pub fn pg_partition(subject_id: i64) -> u32 {
    let (lo, hi) = (subject_id as u32, (subject_id >> 32) as u32);
    let folded = lo ^ if subject_id >= 0 { hi } else { !hi };
    let hash = hash_u32(folded, SEED);
    // The row's hash over its key columns starts at 0 and takes in each column's hash.
    let row = combine(0, hash);
    (row % u64::from(PG_PARTITIONS)) as u32
}

fn combine(a: u64, b: u64) -> u64 {
    a ^ b.wrapping_add(0x49a0_f4dd_15e5_a8e3).wrapping_add(a << 54).wrapping_add(a >> 7)
}

/// lookup3's hash of one 32-bit word with a 64-bit seed, as PostgreSQL's
/// `hash_uint32_extended`.
fn hash_u32(k: u32, seed: u64) -> u64 {
    let start = 0x9e37_79b9_u32.wrapping_add(4).wrapping_add(3_923_095);
    let mut s = [start; 3];
    if seed != 0 {
        s[0] = s[0].wrapping_add((seed >> 32) as u32);
        s[1] = s[1].wrapping_add(seed as u32);
        mix(&mut s);
    }
    s[0] = s[0].wrapping_add(k);
    finish(&mut s);
    (u64::from(s[1]) << 32) | u64::from(s[2])
}

/// lookup3's `mix`: each step is (x -= y; x ^= y rotated by r; y += z).
fn mix(s: &mut [u32; 3]) {
    for (x, y, z, r) in [(0, 2, 1, 4), (1, 0, 2, 6), (2, 1, 0, 8), (0, 2, 1, 16), (1, 0, 2, 19), (2, 1, 0, 4)] {
        s[x] = s[x].wrapping_sub(s[y]) ^ s[y].rotate_left(r);
        s[y] = s[y].wrapping_add(s[z]);
    }
}

/// lookup3's `final`: each step is (x ^= y; x -= y rotated by r).
fn finish(s: &mut [u32; 3]) {
    for (x, y, r) in [(2, 1, 14), (0, 2, 11), (1, 0, 25), (2, 1, 16), (0, 2, 4), (1, 0, 14), (2, 1, 24)] {
        s[x] = (s[x] ^ s[y]).wrapping_sub(s[y].rotate_left(r));
    }
}

#[cfg(test)]
mod tests {
    use super::pg_partition;

    #[test]
    fn known_placements() {
        // Where PostgreSQL 15 put these keys in a table of 8 hash partitions.
        let placed = [(1, 0), (2, 2), (3, 1), (42, 2), (1000, 4), (-1, 5), (5_000_000_000, 0)];
        for (id, partition) in placed {
            assert_eq!(pg_partition(id), partition, "subject {id}");
        }
    }
}
