package main.java;

public class Greeter {
  public String greet(String user) {
    return "Hello, " + user;
  }
}
