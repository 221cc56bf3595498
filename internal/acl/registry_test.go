package acl

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestRegistryBasics(t *testing.T) {
	r := NewRegistry(testCS, ResetChannels)
	if r.Commands() != testCS || r.ChannelDefault() != ResetChannels {
		t.Fatal("accessors")
	}
	if d := r.Default(); d.Name() != "default" || d.Removed() || r.Lookup("default") != d {
		t.Fatal("default account")
	}
	if got := strings.Join(r.List(), "\n"); got != "user default on nopass sanitize-payload ~* &* +@all" {
		t.Fatalf("List = %q", got)
	}
	old, nu, err := r.SetUser("newuser")
	if err != nil || old != nil || nu.Describe() != "off sanitize-payload resetchannels -@all" {
		t.Fatalf("SetUser: %v %v %v", old, nu, err)
	}
	if got := strings.Join(r.Names(), " "); got != "default newuser" {
		t.Fatalf("Names = %q", got)
	}
	acct := r.Lookup("newuser")
	if acct == nil || acct.User() != nu {
		t.Fatal("Lookup")
	}
	if _, _, err := r.SetUser("a a"); !errors.Is(err, ErrBadUsername) || err.Error() != "ERR Usernames can't contain spaces or null characters" {
		t.Fatalf("bad name: %v", err)
	}
	if _, _, err := r.SetUser("a\x00"); !errors.Is(err, ErrBadUsername) {
		t.Fatalf("NUL in name: %v", err)
	}

	// Authentication.
	if r.Authenticate("newuser", []byte("passwd1")) != nil {
		t.Fatal("no password yet")
	}
	if _, _, err := r.SetUser("newuser", ">passwd1"); err != nil {
		t.Fatal(err)
	}
	if r.Authenticate("newuser", []byte("passwd1")) != nil {
		t.Fatal("new users start disabled")
	}
	prev := acct.User()
	old, nu, err = r.SetUser("newuser", "on", "+acl")
	if err != nil || old != prev || acct.User() != nu {
		t.Fatal("SetUser must publish a new value on the same account")
	}
	if r.Authenticate("newuser", []byte("passwd1")) != acct || r.Authenticate("newuser", []byte("x")) != nil || r.Authenticate("nosuch", nil) != nil {
		t.Fatal("Authenticate")
	}

	// A failed SETUSER changes nothing, and creates nobody.
	before := acct.User()
	if _, _, err := r.SetUser("newuser", "-@all", "+nosuch"); err == nil || acct.User() != before {
		t.Fatal("failed SetUser changed the user")
	}
	if _, _, err := r.SetUser("selector-syntax", "on", "(this-is-invalid)"); err == nil || r.Lookup("selector-syntax") != nil {
		t.Fatal("failed SetUser created the user")
	}

	// DELUSER.
	if _, err := r.DelUsers("newuser", "default"); !errors.Is(err, ErrDeleteDefault) || r.Lookup("newuser") == nil {
		t.Fatal("deleting default must fail and delete nothing")
	}
	if err := ErrDeleteDefault.Error(); err != "ERR The 'default' user cannot be removed" {
		t.Fatal(err)
	}
	gone, err := r.DelUsers("newuser", "nosuch", "newuser")
	if err != nil || len(gone) != 1 || gone[0] != acct || !acct.Removed() || r.Lookup("newuser") != nil {
		t.Fatalf("DelUsers: %v %v", gone, err)
	}
	// A new user of the same name is a new account.
	if _, _, err := r.SetUser("newuser"); err != nil || r.Lookup("newuser") == acct {
		t.Fatal("recreated user reuses a removed account")
	}
}

func TestRegistryChannelDefault(t *testing.T) {
	// acl.tcl: existing users keep their channels when acl-pubsub-default
	// changes; new users and "reset" follow it.
	r := NewRegistry(testCS, ResetChannels)
	if got := r.Default().User().Info().Root.Channels; got != "&*" {
		t.Fatalf("default channels %q", got)
	}
	r.SetChannelDefault(AllChannels)
	_, u, _ := r.SetUser("mydefault")
	if u.Info().Root.Channels != "&*" {
		t.Fatal("allchannels default")
	}
	r.SetChannelDefault(ResetChannels)
	if r.Lookup("mydefault").User().Info().Root.Channels != "&*" {
		t.Fatal("existing user changed")
	}
	_, u, _ = r.SetUser("onechannel", "&test")
	if u.Info().Root.Channels != "&test" {
		t.Fatal("single channel")
	}
	r.SetChannelDefault(AllChannels)
	if _, _, err := r.SetUser("other", "&test"); err == nil || !strings.Contains(err.Error(), "start with an empty list of channels") {
		t.Fatalf("channel after allchannels default: %v", err)
	}
	// "default: with config acl-pubsub-default … after reset".
	_, u, _ = r.SetUser("default", "reset", "on", "nopass", "~*", "+@all")
	if reason, _ := check(t, u, "publish hello world"); reason != Allowed {
		t.Fatal("allchannels reset")
	}
	r.SetChannelDefault(ResetChannels)
	_, u, _ = r.SetUser("default", "reset", "on", "nopass", "~*", "+@all")
	for _, line := range []string{"subscribe foo", "psubscribe bar*", "publish hello world"} {
		if reason, _ := check(t, u, line); reason != DeniedChannel {
			t.Fatalf("%s allowed after reset with resetchannels", line)
		}
	}
}

func TestSetRequirePass(t *testing.T) {
	r := NewRegistry(testCS, ResetChannels)
	r.SetRequirePass("secret")
	d := r.Default().User()
	if d.NoPass() || !d.CheckPassword([]byte("secret")) || d.CheckPassword([]byte("")) {
		t.Fatal("requirepass")
	}
	if got := d.Describe(); got != "on sanitize-payload #"+HashPassword("secret")+" ~* &* +@all" {
		t.Fatalf("describe %q", got)
	}
	r.SetRequirePass("other")
	if r.Default().User().CheckPassword([]byte("secret")) {
		t.Fatal("old requirepass still accepted")
	}
	r.SetRequirePass("")
	if !r.Default().User().NoPass() {
		t.Fatal("empty requirepass is nopass")
	}
}

// TestRegistryConcurrency runs checks against accounts while their users
// are replaced, for the race detector: readers must only ever see whole
// users.
func TestRegistryConcurrency(t *testing.T) {
	r := NewRegistry(testCS, ResetChannels)
	if _, _, err := r.SetUser("u", "on", "nopass", "+get", "~k"); err != nil {
		t.Fatal(err)
	}
	acct := r.Lookup("u")
	a := args("get k")
	id, keys := idOf(t, a), keysOf(a)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				u := acct.User()
				reason, _ := u.Check(id, a, keys)
				// Every published state allows GET k, with one selector or the other.
				if reason != Allowed {
					panic(fmt.Sprintf("half-applied user seen: %s", u.Describe()))
				}
				_ = r.Names()
				_ = u.Describe()
			}
		}()
	}
	for i := range 300 {
		rules := []string{"reset", "on", "nopass", "+get", "~k"}
		if i%2 == 1 {
			rules = []string{"reset", "on", "nopass", "(+get ~k)", "+set", "~other"}
		}
		if _, _, err := r.SetUser("u", rules...); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			r.SetRequirePass(fmt.Sprint(i))
			if _, _, err := r.SetUser(fmt.Sprint("tmp", i)); err != nil {
				t.Fatal(err)
			}
			if _, err := r.DelUsers(fmt.Sprint("tmp", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	wg.Wait()
	if slices.Contains(r.Names(), "tmp0") {
		t.Fatal("DelUsers")
	}
}
