;; Hash chain: a long sequential chain of 64-bit mixes, the kind of work that cannot be split.
;;
;; Input: `rounds` (u32 LE), then up to 64 KiB of data. h0 = FNV-1a-64(data); then
;; h(i) = mix(h(i-1) xor i) for i in 1..=rounds, where mix is SplitMix64's finalizer.
;; Output: h(rounds) as u64 LE. An input shorter than 4 bytes aborts with code 1.
(module
  (import "tessera" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (import "tessera" "write_output" (func $write_output (param i32 i32)))
  (import "tessera" "abort" (func $abort (param i32)))
  (memory (export "memory") 2)

  (func $mix (param $z i64) (result i64)
    (local.set $z (i64.mul (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 30)))
                           (i64.const 0xbf58476d1ce4e5b9)))
    (local.set $z (i64.mul (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 27)))
                           (i64.const 0x94d049bb133111eb)))
    (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 31))))

  (func (export "run")
    (local $len i32) (local $p i32) (local $rounds i64) (local $i i64) (local $h i64)
    ;; The input lands at address 0: 4 bytes of rounds and up to 65,536 of data.
    (local.set $len (call $read_input (i32.const 0) (i32.const 0) (i32.const 65540)))
    (if (i32.lt_u (local.get $len) (i32.const 4)) (then (call $abort (i32.const 1)) (unreachable)))
    (local.set $rounds (i64.load32_u (i32.const 0)))
    ;; FNV-1a over the data.
    (local.set $h (i64.const 0xcbf29ce484222325))
    (local.set $p (i32.const 4))
    (block $done
      (loop $bytes
        (br_if $done (i32.ge_u (local.get $p) (local.get $len)))
        (local.set $h (i64.mul (i64.xor (local.get $h) (i64.load8_u (local.get $p)))
                               (i64.const 0x100000001b3)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $bytes)))
    ;; The chain.
    (local.set $i (i64.const 1))
    (block $end
      (loop $chain
        (br_if $end (i64.gt_u (local.get $i) (local.get $rounds)))
        (local.set $h (call $mix (i64.xor (local.get $h) (local.get $i))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $chain)))
    (i64.store (i32.const 65544) (local.get $h))
    (call $write_output (i32.const 65544) (i32.const 8))))
