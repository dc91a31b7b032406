;; Dropout keep-masks (wasm SIMD) written straight into the tfjs-backend-wasm heap: this module imports that
;; instance's memory, and all pointers are byte addresses in it. Built into dropout-kernels.wasm.ts by
;; `npm run build:wasm -w @dapple/models`; dropout-mask.ts has the same hash in JS and says why.
(module
  (import "env" "memory" (memory 1))

  ;; out[i] = scale if lowbias32((i + seedA) ^ seedB) >>> 8 ≥ threshold else 0, for i < n (n % 4 == 0; the
  ;; caller does the rest). Four counters per step; i32x4.mul keeps the low 32 bits, as Math.imul does.
  (func (export "keepMask") (param $out i32) (param $n i32) (param $seedA i32) (param $seedB i32) (param $threshold i32) (param $scale f32)
    (local $off i32) (local $end i32) (local $idx v128) (local $h v128) (local $va v128) (local $vb v128) (local $vt v128) (local $vs v128)
    (local.set $va (i32x4.splat (local.get $seedA)))
    (local.set $vb (i32x4.splat (local.get $seedB)))
    (local.set $vt (i32x4.splat (local.get $threshold)))
    (local.set $vs (f32x4.splat (local.get $scale)))
    (local.set $idx (v128.const i32x4 0 1 2 3))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $off (i32.const 0))
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $l
        (local.set $h (v128.xor (i32x4.add (local.get $idx) (local.get $va)) (local.get $vb)))
        (local.set $h (v128.xor (local.get $h) (i32x4.shr_u (local.get $h) (i32.const 16))))
        (local.set $h (i32x4.mul (local.get $h) (v128.const i32x4 0x7feb352d 0x7feb352d 0x7feb352d 0x7feb352d)))
        (local.set $h (v128.xor (local.get $h) (i32x4.shr_u (local.get $h) (i32.const 15))))
        (local.set $h (i32x4.mul (local.get $h) (v128.const i32x4 0x846ca68b 0x846ca68b 0x846ca68b 0x846ca68b)))
        (local.set $h (v128.xor (local.get $h) (i32x4.shr_u (local.get $h) (i32.const 16))))
        ;; h >>> 8 < 2^24, so the signed compare is the unsigned one; true lanes are all ones
        (v128.store (i32.add (local.get $out) (local.get $off))
          (v128.and (i32x4.ge_s (i32x4.shr_u (local.get $h) (i32.const 8)) (local.get $vt)) (local.get $vs)))
        (local.set $idx (i32x4.add (local.get $idx) (v128.const i32x4 4 4 4 4)))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $off) (local.get $end))))))
)
