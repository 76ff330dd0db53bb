// A tiny driver for the checker benchmark (bench/check.ts): reads Porcupine KV logs (*.txt) and
// Jepsen etcd logs, checks each with porcupine.CheckOperations REPEAT times and prints
// "FILE VERDICT FIRST_MS BEST_MS" per line, so Synod's checker and Porcupine can be timed on the
// same histories in the same run. Usage: driver [-repeat N] FILE...
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// ---- key-value store with append, partitioned by key ----

type kvIn struct {
	f     string // get, put, append
	key   string
	value string
}

type kvOut struct{ value string }

var kv = porcupine.Model{
	Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
		groups := map[string][]porcupine.Operation{}
		var order []string
		for _, op := range ops {
			k := op.Input.(kvIn).key
			if _, seen := groups[k]; !seen {
				order = append(order, k)
			}
			groups[k] = append(groups[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(order))
		for _, k := range order {
			out = append(out, groups[k])
		}
		return out
	},
	Init: func() interface{} { return "" },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		s, in := state.(string), input.(kvIn)
		switch in.f {
		case "get":
			return output.(kvOut).value == s, s
		case "put":
			return true, in.value
		default:
			return true, s + in.value
		}
	},
	Equal: func(a, b interface{}) bool { return a.(string) == b.(string) },
}

var kvLine = regexp.MustCompile(`^\{:process (\d+), :type :(invoke|ok), :f :(get|put|append), :key "(.*)", :value (nil|"(.*)")\}$`)

func readKv(path string) []porcupine.Operation {
	lines := readLines(path)
	var ops []porcupine.Operation
	open := map[int]int{}
	for t, line := range lines {
		m := kvLine.FindStringSubmatch(line)
		if m == nil {
			panic(fmt.Sprintf("%s:%d: not a kv line", path, t+1))
		}
		p, _ := strconv.Atoi(m[1])
		if m[2] == "invoke" {
			open[p] = len(ops)
			ops = append(ops, porcupine.Operation{ClientId: p, Input: kvIn{m[3], m[4], m[6]}, Call: int64(t)})
			continue
		}
		i := open[p]
		delete(open, p)
		ops[i].Output = kvOut{m[6]}
		ops[i].Return = int64(t)
	}
	return ops
}

// ---- etcd register (Jepsen text log): failed cas observed a different value ----

type regIn struct {
	f        string // read, write, cas
	arg, to  int
	argIsNil bool
}

type regOut struct {
	ok, unknown bool
	value       int
	isNil       bool
}

const nilValue = -1 << 62

var register = porcupine.Model{
	Init: func() interface{} { return nilValue },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		s, in, out := state.(int), input.(regIn), output.(regOut)
		switch in.f {
		case "read":
			v := out.value
			if out.isNil {
				v = nilValue
			}
			return out.unknown || v == s, s
		case "write":
			return true, in.arg
		default:
			if in.arg == s {
				return out.ok || out.unknown, in.to
			}
			return !out.ok || out.unknown, s
		}
	},
	Equal: func(a, b interface{}) bool { return a.(int) == b.(int) },
}

var logLine = regexp.MustCompile(`^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\s+:(read|write|cas)\s*(.*)$`)

func intOrNil(text string) (int, bool) {
	if text == "nil" || text == "" {
		return nilValue, true
	}
	v, err := strconv.Atoi(text)
	if err != nil {
		panic("bad value " + text)
	}
	return v, false
}

func readEtcd(path string) []porcupine.Operation {
	lines := readLines(path)
	var ops []porcupine.Operation
	open := map[int]int{}
	failed := map[int]bool{}
	end := int64(len(lines) + 1)
	for t, line := range lines {
		m := logLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		p, _ := strconv.Atoi(m[1])
		value := strings.TrimSpace(m[4])
		if m[2] == "invoke" {
			in := regIn{f: m[3]}
			if m[3] == "cas" {
				parts := strings.Fields(strings.Trim(value, "[]"))
				in.arg, _ = intOrNil(parts[0])
				in.to, _ = intOrNil(parts[1])
			} else if m[3] == "write" {
				in.arg, _ = intOrNil(value)
			}
			open[p] = len(ops)
			ops = append(ops, porcupine.Operation{ClientId: p, Input: in, Call: int64(t), Output: regOut{unknown: true}, Return: end})
			continue
		}
		i, ok := open[p]
		if !ok {
			continue
		}
		delete(open, p)
		switch m[2] {
		case "ok":
			out := regOut{ok: true}
			if m[3] == "read" {
				out.value, out.isNil = intOrNil(value)
			}
			ops[i].Output, ops[i].Return = out, int64(t)
		case "fail":
			if m[3] == "cas" {
				ops[i].Output, ops[i].Return = regOut{ok: false}, int64(t)
			} else {
				failed[i] = true // a failed read or write did not happen
			}
		}
		// :info stays unknown, returning after everything else
	}
	kept := ops[:0]
	for i, op := range ops {
		if !failed[i] {
			kept = append(kept, op)
		}
	}
	return kept
}

func readLines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	var lines []string
	scan := bufio.NewScanner(f)
	scan.Buffer(make([]byte, 1<<20), 1<<26)
	for scan.Scan() {
		lines = append(lines, scan.Text())
	}
	return lines
}

func main() {
	repeat := flag.Int("repeat", 1, "checks per file; the best time is reported beside the first")
	flag.Parse()
	for _, path := range flag.Args() {
		var ops []porcupine.Operation
		model := register
		if strings.HasSuffix(path, ".txt") {
			ops, model = readKv(path), kv
		} else {
			ops = readEtcd(path)
		}
		first, best := -1.0, -1.0
		ok := false
		for r := 0; r < *repeat; r++ {
			start := time.Now()
			ok = porcupine.CheckOperations(model, ops)
			ms := float64(time.Since(start).Microseconds()) / 1000
			if first < 0 {
				first = ms
			}
			if best < 0 || ms < best {
				best = ms
			}
		}
		verdict := "not-linearizable"
		if ok {
			verdict = "linearizable"
		}
		fmt.Printf("%s %s %.3f %.3f\n", path, verdict, first, best)
	}
}
